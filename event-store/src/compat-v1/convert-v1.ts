import { create } from "@bufbuild/protobuf";
import {
  type AppLogEntry,
  AppLogEntrySchema,
  type Event,
  EventSchema,
} from "@eskit/gen/contracts/eventstore/event_pb.js";
import { ValidationError } from "../domain/errors.js";
import type { LogEntry, NewEvent, StoredEvent } from "../domain/event.js";
import { parseDecimal } from "./decimal.js";
import { emptyPayloadKey, instantFromOccuredOn, occuredOnFromInstant, occuredOnKey } from "./occured-on.js";

/**
 * A v1 Event as the domain's NewEvent. The version is a decimal string (empty or malformed is `invalid_argument`);
 * what the core cannot keep as v1 sent it (`occured_on` in its unit, an empty payload) goes into metadata, see
 * `occured-on.ts`. The rest is checked by `validateAppend`, as for our own Append.
 */
export function fromV1Event(event: Event | undefined): NewEvent {
  if (event === undefined) throw new ValidationError("event is missing");
  const originator = event.originator;
  if (originator === undefined) throw new ValidationError("event.originator is missing");
  const metadata: Record<string, string> = { [occuredOnKey]: event.occuredOn.toString() };
  if (event.payload === "") metadata[emptyPayloadKey] = "true";
  return {
    originatorId: originator.id,
    version: parseDecimal(originator.version, "event.originator.version"),
    eventType: event.eventType,
    payload: event.payload,
    occurredOn: event.occuredOn === 0n ? undefined : instantFromOccuredOn(event.occuredOn),
    metadata,
  };
}

/** A stored event as v1 sees it: exactly what a v1 client sent, or, for other events, `occured_on` in seconds. */
export function toV1Event(event: StoredEvent): Event {
  const exact = event.metadata[occuredOnKey];
  return create(EventSchema, {
    originator: { id: event.originatorId, version: event.version.toString() },
    eventType: event.eventType,
    payload: event.metadata[emptyPayloadKey] === "true" ? "" : event.payload,
    occuredOn:
      exact !== undefined && /^-?[0-9]+$/u.test(exact) ? BigInt(exact) : occuredOnFromInstant(event.occurredOn),
  });
}

/** A log entry as v1 sees it: the id as a decimal string. */
export function toV1LogEntry(entry: LogEntry): AppLogEntry {
  return create(AppLogEntrySchema, { id: entry.id.toString(), event: toV1Event(entry.event) });
}
