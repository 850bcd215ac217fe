import { Code, ConnectError } from "@connectrpc/connect";
import type { Event } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import { VersionTakenError } from "../domain/errors.js";
import type { StoredEvent } from "../store/event-store-port.js";

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
