import { ev } from "./sql-names.js";
import type { StoredEvent } from "../domain/event.js";

/** The event columns as the raw-SQL hot paths select them: int8 as text, metadata as JSON text. */
export type EventRowText = {
  originator_id: string;
  version: string;
  entity_type: string;
  event_type: string;
  payload: string;
  metadata: string;
  occurred_on_seconds: string;
  occurred_on_nanos: number;
  event_id: string;
};

/** The select list that produces an EventRowText from the events table aliased `e` (names from sql-names.ts). */
export const eventRowTextColumns = `e.${ev.originatorId} as originator_id, e.${ev.version}::text as version,
  e.${ev.entityType} as entity_type, e.${ev.eventType} as event_type, e.${ev.payload} as payload,
  e.${ev.metadata}::text as metadata, e.${ev.occurredOnSeconds}::text as occurred_on_seconds,
  e.${ev.occurredOnNanos} as occurred_on_nanos, e.${ev.eventId}::text as event_id`;

/** The names of the columns of {@link eventRowTextColumns}, in its order. */
export const eventRowTextNames = [
  "originator_id",
  "version",
  "entity_type",
  "event_type",
  "payload",
  "metadata",
  "occurred_on_seconds",
  "occurred_on_nanos",
  "event_id",
] as const satisfies ReadonlyArray<keyof EventRowText>;

// Most events carry no metadata: share one frozen empty map instead of parsing "{}" per row.
export const noMetadata: Readonly<Record<string, string>> = Object.freeze({});

export function fromEventRowText(row: EventRowText): StoredEvent {
  return {
    originatorId: row.originator_id,
    version: BigInt(row.version),
    eventType: row.event_type,
    entityType: row.entity_type,
    action: row.event_type.slice(row.entity_type.length + 1),
    payload: row.payload,
    metadata: row.metadata === "{}" ? noMetadata : (JSON.parse(row.metadata) as Record<string, string>),
    occurredOn: { seconds: BigInt(row.occurred_on_seconds), nanos: row.occurred_on_nanos },
    eventId: row.event_id,
  };
}
