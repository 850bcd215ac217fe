import { LimitExceededError } from "../domain/errors.js";
import type { StoredEvent } from "../domain/event.js";
import type { Database } from "../storage/database.js";
import { type EventRowText, eventRowTextColumns, fromEventRowText } from "../storage/event-row-text.js";

// 0 means unbounded on either side; the (originator_id, version) unique index serves the range.
const readEventsSql = `
  select ${eventRowTextColumns} from events e
  where e.originator_id = $1 and e.version >= $2 and ($3::bigint = 0 or e.version <= $3::bigint)
  order by e.version`;

/** One originator's events in version order, `fromVersion`..`toVersion` inclusive (0 = unbounded). */
export async function readEvents(
  database: Database,
  originatorId: string,
  fromVersion: bigint,
  toVersion: bigint,
  signal?: AbortSignal,
): Promise<StoredEvent[]> {
  const rows = await database.query<EventRowText>(
    readEventsSql,
    [originatorId, fromVersion.toString(), toVersion.toString()],
    signal,
  );
  return rows.map(fromEventRowText);
}

/** One originator's version range, as in {@link readEvents}. */
export interface EventRange {
  readonly originatorId: string;
  readonly fromVersion: bigint;
  readonly toVersion: bigint;
}

// The ranges travel as one JSON parameter (as appends do), each with its index so the rows come back grouped in
// request order; each range is one step through the (originator_id, version) index.
const readManySql = `
  select r.i, ${eventRowTextColumns}
  from json_to_recordset($1::json) as r(i int, id text, f bigint, t bigint)
  join events e on e.originator_id = r.id and e.version >= r.f and (r.t = 0 or e.version <= r.t)
  order by r.i, e.version
  limit $2`;

/**
 * The events of many ranges in one query, grouped per range in request order. More than `maxEvents` in all is
 * LimitExceededError: the caller asks for fewer ranges at once.
 */
export async function readManyEvents(
  database: Database,
  ranges: readonly EventRange[],
  maxEvents: number,
  signal?: AbortSignal,
): Promise<StoredEvent[][]> {
  const json = JSON.stringify(
    ranges.map((r, i) => ({ i, id: r.originatorId, f: String(r.fromVersion), t: String(r.toVersion) })),
  );
  const rows = await database.query<EventRowText & { i: number }>(readManySql, [json, maxEvents + 1], signal);
  if (rows.length > maxEvents) {
    throw new LimitExceededError(`the ranges hold more than ${maxEvents} events: ask for fewer ranges at once`);
  }
  const results: StoredEvent[][] = ranges.map(() => []);
  for (const row of rows) results[row.i]!.push(fromEventRowText(row));
  return results;
}
