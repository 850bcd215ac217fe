import { Code, ConnectError } from "@connectrpc/connect";
import type { Event } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import type { GetEventsResponse } from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
import { VersionTakenError } from "../domain/errors.js";
import type { HistorySlice, StoredEvent } from "../store/event-store-port.js";

/** An Event Store event as the core reads it. The time is the message's own Timestamp, which is an Instant. */
export function toStoredEvent(event: Event): StoredEvent {
  return {
    originatorId: event.originator?.id ?? "",
    version: event.originator?.version ?? 0n,
    eventType: event.eventType,
    payload: event.payload,
    metadata: event.metadata,
    occurredOn: event.occurredOn,
  };
}

/** A GetEvents answer (alone, or one result of BatchGetEvents) as the core reads it. */
export function toSlice(response: GetEventsResponse): HistorySlice {
  const snapshot = response.snapshot;
  return {
    snapshot: snapshot === undefined ? undefined : { version: snapshot.version, payload: snapshot.payload },
    events: response.events.map(toStoredEvent),
  };
}

/**
 * An Append's failure as the core knows it: `aborted` (a version already taken) becomes VersionTakenError, keeping
 * the Event Store's message; anything else (`unavailable`, a passed deadline, ...) is returned as it is.
 */
export function appendFailure(error: unknown): unknown {
  if (error instanceof ConnectError && error.code === Code.Aborted) {
    return new VersionTakenError(error.rawMessage, { cause: error });
  }
  return error;
}
