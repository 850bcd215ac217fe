import type { Database } from "../storage/database.js";
import { ev } from "../storage/sql-names.js";

/** One originator and where its history stands. */
export interface OriginatorSummary {
  readonly id: string;
  readonly version: bigint;
  readonly lastEventType: string;
}

// Walks the partial index of first events (entity_type, originator_id) where version = 1, and looks up each
// originator's latest event through the (originator_id, version) index: the cost of a page is one index step per
// originator, whatever the length of the histories or the size of other types.
export const listOriginatorsSql = `
  select f.${ev.originatorId} as originator_id, last.version::text as version, last.event_type as event_type
  from ${ev.$} f
  cross join lateral (
    select l.${ev.version} as version, l.${ev.eventType} as event_type from ${ev.$} l
    where l.${ev.originatorId} = f.${ev.originatorId} order by l.${ev.version} desc limit 1
  ) last
  where f.${ev.entityType} = $1 and f.${ev.version} = 1 and f.${ev.originatorId} > $2
    and ($3::text is null or last.event_type <> $3::text)
  order by f.${ev.originatorId}
  limit $4`;

/**
 * The originators whose first event is of `entityType`, with ids after `afterId`, in id order; those whose latest
 * event has the action `excludeLastAction` are skipped.
 */
export async function listOriginators(
  database: Database,
  entityType: string,
  afterId: string,
  limit: number,
  excludeLastAction: string | undefined,
): Promise<OriginatorSummary[]> {
  const excluded = excludeLastAction === undefined ? null : `${entityType}.${excludeLastAction}`;
  const rows = await database.query<{ originator_id: string; version: string; event_type: string }>(
    listOriginatorsSql,
    [entityType, afterId, excluded, limit],
  );
  return rows.map((row) => ({ id: row.originator_id, version: BigInt(row.version), lastEventType: row.event_type }));
}
