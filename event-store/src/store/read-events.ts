import { LimitExceededError } from "../domain/errors.js";
import type { StoredEvent } from "../domain/event.js";
import type { Database } from "../storage/database.js";
import { type EventRowText, eventRowTextColumns, fromEventRowText } from "../storage/event-row-text.js";
import { ev } from "../storage/sql-names.js";

// 0 means unbounded on either side; the (originator_id, version) unique index serves the range.
export const readEventsSql = `
  select ${eventRowTextColumns} from ${ev.$} e
  where e.${ev.originatorId} = $1 and e.${ev.version} >= $2 and ($3::bigint = 0 or e.${ev.version} <= $3::bigint)
  order by e.${ev.version}`;

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
  select ranges.i, ${eventRowTextColumns}
  from json_to_recordset($1::json) as ranges(i int, id text, f bigint, t bigint)
  join ${ev.$} e on e.${ev.originatorId} = ranges.id and e.${ev.version} >= ranges.f and (ranges.t = 0 or e.${ev.version} <= ranges.t)
  order by ranges.i, e.${ev.version}
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
