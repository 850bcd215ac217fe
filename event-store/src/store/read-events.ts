import { LimitExceededError } from "../domain/errors.js";
import type { StoredEvent } from "../domain/event.js";
import type { Database } from "../storage/database.js";
import { type EventRowText, eventRowTextColumns, fromEventRowText } from "../storage/event-row-text.js";
import { ev, snap } from "../storage/sql-names.js";
import type { Snapshot } from "./snapshots.js";

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

/** One originator's version range, as in {@link readEvents}; `fromLatestSnapshot` as in {@link readState}. */
export interface EventRange {
  readonly originatorId: string;
  readonly fromVersion: bigint;
  readonly toVersion: bigint;
  readonly fromLatestSnapshot?: boolean;
}

/** The latest snapshot in a range (if any), and the events after it. */
export interface EventsFromSnapshot {
  readonly snapshot: Snapshot | undefined;
  readonly events: StoredEvent[];
}

/** A row of the state reads: an event, or (with `snapshot` set, the event columns null) the snapshot they follow. */
type StateRow = EventRowText & { snapshot: string | null };

// The snapshot is looked up once (a materialized CTE, one step through the snapshots' primary key); the events start
// after it, or at $2 if that is later. Its row comes first: its version is below every event's. One statement, so a
// state is one round trip, and a snapshot saved meanwhile cannot fall between the two halves.
export const readStateSql = `
  with latest as materialized (
    select ${snap.version} as version, ${snap.payload} as payload from ${snap.$}
    where ${snap.originatorId} = $1 and ($3::bigint = 0 or ${snap.version} <= $3::bigint)
    order by ${snap.version} desc limit 1)
  select * from (
    select null::text as snapshot, e.${ev.version} as v, ${eventRowTextColumns} from ${ev.$} e
    where e.${ev.originatorId} = $1
      and e.${ev.version} >= greatest($2::bigint, coalesce((select version from latest), 0) + 1)
      and ($3::bigint = 0 or e.${ev.version} <= $3::bigint)
    union all
    select latest.payload, latest.version, $1, latest.version::text, null, null, null, null, null, null, null from latest) rows
  order by v`;

/**
 * A state read in one statement: the latest snapshot at or below `toVersion` (0 = any), and the events after it
 * (from `fromVersion` on, if that is later) up to `toVersion`.
 */
export async function readState(
  database: Database,
  originatorId: string,
  fromVersion: bigint,
  toVersion: bigint,
  signal?: AbortSignal,
): Promise<EventsFromSnapshot> {
  const rows = await database.query<StateRow>(
    readStateSql,
    [originatorId, fromVersion.toString(), toVersion.toString()],
    signal,
  );
  return splitState(rows);
}

function splitState(rows: readonly StateRow[]): EventsFromSnapshot {
  const state: Filling = { snapshot: undefined, events: [] };
  for (const row of rows) take(row, state);
  return state;
}

/** An EventsFromSnapshot being filled from rows. */
type Filling = { snapshot: Snapshot | undefined; events: StoredEvent[] };

/** Puts a row of a state read into `state`: an event, or the snapshot the events follow. True for an event. */
function take(row: StateRow, state: Filling): boolean {
  if (row.snapshot === null) {
    state.events.push(fromEventRowText(row));
    return true;
  }
  state.snapshot = { version: BigInt(row.version), payload: row.snapshot };
  return false;
}

// The ranges travel as one JSON parameter (as appends do), each with its index so the rows come back grouped in
// request order; each range is one step through the (originator_id, version) index.
const readManySql = `
  select ranges.i, null::text as snapshot, ${eventRowTextColumns}
  from json_to_recordset($1::json) as ranges(i int, id text, f bigint, t bigint)
  join ${ev.$} e on e.${ev.originatorId} = ranges.id and e.${ev.version} >= ranges.f and (ranges.t = 0 or e.${ev.version} <= ranges.t)
  order by ranges.i, e.${ev.version}
  limit $2`;

// As readStateSql, for many ranges: each range that asks (s) gets its latest snapshot in range, and its events
// start after it. The limit counts the snapshot rows too, so it is raised by one per range.
const readManyStatesSql = `
  with wanted as materialized (select * from json_to_recordset($1::json) as w(i int, id text, f bigint, t bigint, s boolean)),
  latest as materialized (
    select wanted.i, sn.version, sn.payload from wanted cross join lateral (
      select ${snap.version} as version, ${snap.payload} as payload from ${snap.$}
      where wanted.s and ${snap.originatorId} = wanted.id and (wanted.t = 0 or ${snap.version} <= wanted.t)
      order by ${snap.version} desc limit 1) sn)
  select * from (
    select wanted.i, null::text as snapshot, e.${ev.version} as v, ${eventRowTextColumns}
    from wanted left join latest on latest.i = wanted.i
    join ${ev.$} e on e.${ev.originatorId} = wanted.id and e.${ev.version} >= greatest(wanted.f, coalesce(latest.version, 0) + 1)
      and (wanted.t = 0 or e.${ev.version} <= wanted.t)
    union all
    select latest.i, latest.payload, latest.version, wanted.id, latest.version::text, null, null, null, null, null, null, null
    from latest join wanted on wanted.i = latest.i) rows
  order by i, v
  limit $2`;

/**
 * The events of many ranges in one query, grouped per range in request order; a range with `fromLatestSnapshot`
 * starts after its latest snapshot in range, which comes with it. More than `maxEvents` events in all is
 * LimitExceededError: the caller asks for fewer ranges at once.
 */
export async function readManyEvents(
  database: Database,
  ranges: readonly EventRange[],
  maxEvents: number,
  signal?: AbortSignal,
): Promise<EventsFromSnapshot[]> {
  const withSnapshots = ranges.some((r) => r.fromLatestSnapshot === true);
  const json = JSON.stringify(
    ranges.map((r, i) => ({
      i,
      id: r.originatorId,
      f: String(r.fromVersion),
      t: String(r.toVersion),
      s: r.fromLatestSnapshot === true,
    })),
  );
  const limit = maxEvents + 1 + (withSnapshots ? ranges.length : 0);
  const rows = await database.query<StateRow & { i: number }>(
    withSnapshots ? readManyStatesSql : readManySql,
    [json, limit],
    signal,
  );
  const results = ranges.map((): Filling => ({ snapshot: undefined, events: [] }));
  let events = 0;
  for (const row of rows) if (take(row, results[row.i]!)) events++;
  if (events > maxEvents) {
    throw new LimitExceededError(`the ranges hold more than ${maxEvents} events: ask for fewer ranges at once`);
  }
  return results;
}
