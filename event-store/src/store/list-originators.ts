import type { Database } from "../storage/database.js";

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
  select f.originator_id, last.version::text, last.event_type
  from events f
  cross join lateral (
    select l.version, l.event_type from events l
    where l.originator_id = f.originator_id order by l.version desc limit 1
  ) last
  where f.entity_type = $1 and f.version = 1 and f.originator_id > $2
    and ($3::text is null or last.event_type <> $3::text)
  order by f.originator_id
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
