import type { StoredEvent } from "../domain/event.js";
import { events } from "./schema.js";

/** The columns of `events` that make up a StoredEvent: select these, then map with `toStoredEvent`. */
export const eventColumns = {
  originatorId: events.originatorId,
  version: events.version,
  eventType: events.eventType,
  entityType: events.entityType,
  payload: events.payload,
  metadata: events.metadata,
  occurredOnSeconds: events.occurredOnSeconds,
  occurredOnNanos: events.occurredOnNanos,
  eventId: events.eventId,
};

/** A row selected with `eventColumns`. */
export interface EventRow {
  originatorId: string;
  version: bigint;
  eventType: string;
  entityType: string;
  payload: string;
  metadata: Record<string, string>;
  occurredOnSeconds: bigint;
  occurredOnNanos: number;
  eventId: string;
}

export function toStoredEvent(row: EventRow): StoredEvent {
  return {
    originatorId: row.originatorId,
    version: row.version,
    eventType: row.eventType,
    entityType: row.entityType,
    action: row.eventType.slice(row.entityType.length + 1),
    payload: row.payload,
    metadata: row.metadata,
    occurredOn: { seconds: row.occurredOnSeconds, nanos: row.occurredOnNanos },
    eventId: row.eventId,
  };
}
