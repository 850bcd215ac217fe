import { create } from "@bufbuild/protobuf";
import { type Timestamp, TimestampSchema } from "@bufbuild/protobuf/wkt";
import {
  type AppLogEntry,
  AppLogEntrySchema,
  type Event,
  EventSchema,
} from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import type { Instant, LogEntry, NewEvent, StoredEvent } from "../domain/event.js";

/** An Event message as the domain's NewEvent (nothing is checked here: that is `validateAppend`'s job). */
export function toNewEvent(event: Event): NewEvent {
  return {
    originatorId: event.originator?.id ?? "",
    version: event.originator?.version ?? 0n,
    eventType: event.eventType,
    payload: event.payload,
    occurredOn:
      event.occurredOn === undefined ? undefined : { seconds: event.occurredOn.seconds, nanos: event.occurredOn.nanos },
    eventId: event.eventId,
    metadata: event.metadata,
  };
}

export function toEventMessage(event: StoredEvent): Event {
  return create(EventSchema, {
    originator: { id: event.originatorId, version: event.version },
    eventType: event.eventType,
    payload: event.payload,
    occurredOn: toTimestamp(event.occurredOn),
    eventId: event.eventId,
    metadata: { ...event.metadata },
  });
}

export function toLogEntryMessage(entry: LogEntry): AppLogEntry {
  return create(AppLogEntrySchema, { id: entry.id, event: toEventMessage(entry.event) });
}

export function toTimestamp(instant: Instant): Timestamp {
  return create(TimestampSchema, { seconds: instant.seconds, nanos: instant.nanos });
}
