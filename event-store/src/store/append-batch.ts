import type { EventStoreError } from "../domain/errors.js";
import type { ValidEvent } from "../domain/validate-append.js";
import type { Database } from "../storage/database.js";
import { isCancelled, isConnectionError, isPostgresError, violatedConstraint } from "../storage/errors.js";
import { type EventRowText, eventRowTextColumns, fromEventRowText } from "../storage/event-row-text.js";
import { ev } from "../storage/sql-names.js";
import { checkedWriteInput, checkedWriteVersions, copyable, copyRows } from "./checked-write-input.js";
import { type ExistingEvent, planBatch, type RequestPlan } from "../domain/plan-batch.js";

/**
 * The outcome of one request of a batch: its log ids (`written`: by this batch, not an idempotent replay of events
 * already stored), or why it was rejected.
 */
export type AppendOutcome =
  { readonly logIds: bigint[]; readonly written: boolean } | { readonly error: EventStoreError };

// A batch that loses a race (its expectations no longer hold, or a unique key was taken) is planned again against
// what the winner wrote.
const maxAttempts = 8;

/** When an expectation fails: the current versions ('v') and the stored events of the looked-up ids ('e'). */
const whatIsStoredSql = `select 'v', null, null, originator_id, version::text, null, null, null, null, null, null
  from current where not (select ok from verdict)
  union all
  select 'e', event_id, log_id::text, originator_id, version, entity_type, event_type, payload, metadata,
    occurred_on_seconds, occurred_on_nanos
  from found where not (select ok from verdict)`;

// One statement checks the batch's expectations and, only when all hold, writes it: the current version of every
// originator of the batch is the one the plan assumed ($2), and none of the event ids the plan takes for new is stored
// yet ($3). When an expectation fails nothing is written, and the same statement answers with what the plan must be
// redone against: the current versions, and the stored events of those ids (one index probe per id: the LIMIT keeps
// the planner from turning the lookup into a join that scans the table).
//
// The event-id probes run only when $4 asks for them or a version differs. A batch's first attempt does not ask: the
// ids are almost always new, and the unique key on event_id refuses the insert of one that is not (a client's retry of
// an append that was stored), after which the next attempt probes every id. That saves a probe per event (5 µs of
// 37 on a 5000-event import batch, measured), and a version conflict still comes back with the stored events of the
// batch's ids, so a retry of an append stored at those versions is still recognised as a replay.
//
// Every input is a JSON text, whose size the planner never guesses from its value: the plan it makes for these
// parameters costs the same as its generic plan, so PostgreSQL keeps the generic one after five executions instead of
// planning each append anew (an array of ids, whose length it does see, made it replan every time: 0.85 ms of planning
// per append, a third of the throughput at concurrency 16, measured). schema-plans.int.spec.ts checks it. A writer that commits between the
// statement's snapshot and its insert makes the insert fail on a unique key (originator + version, or event_id).
//
// A statement is atomic on its own; doing without BEGIN/COMMIT means the log's advisory lock (taken by the events
// trigger) is held for the statement and its commit only, never across a network round trip. The rows are inserted
// in input order (`n`), so one request's events get increasing log ids. Rows travel as JSON parameters: fixed SQL text
// (prepared once), no parameter-count limit. The input's field names are this statement's own (checked-write-input.ts
// writes the JSON); every table and column name comes from the schema (sql-names.ts). Metadata is read as its JSON text and cast: json_to_recordset builds a
// jsonb column of each row far more slowly (9 µs more per event, measured on a 5000-event batch: 77 ms against 34).
export const checkedWriteSql = `
  with input as (
    select * from json_to_recordset($1::text::json) as x(
      n int, event_id uuid, originator_id text, version bigint, entity_type text, action text, event_type text,
      payload text, metadata text, seconds bigint, nanos int)
  ), ${expectationsSql("$2", "$3", "$4")}, inserted as (
    insert into ${ev.$} (${ev.eventId}, ${ev.originatorId}, ${ev.version}, ${ev.entityType}, ${ev.action},
                         ${ev.eventType}, ${ev.payload}, ${ev.metadata}, ${ev.occurredOnSeconds}, ${ev.occurredOnNanos})
    select event_id, originator_id, version, entity_type, action, event_type, payload, metadata::jsonb, seconds, nanos
    from input where (select ok from verdict) order by n
    returning ${ev.eventId} as event_id, ${ev.logId} as log_id
  )
  select 'w' as kind, event_id::text as event_id, log_id::text as log_id, null as originator_id, null as version,
    null as entity_type, null as event_type, null as payload, null as metadata, null as occurred_on_seconds,
    null::int as occurred_on_nanos
  from inserted
  union all
  ${whatIsStoredSql}`;

/**
 * The CTEs `current`, `found` and `verdict` of a checked write: the expected versions are the JSON parameter
 * `versions`, the event ids to look up `ids`, and `probe` asks for the look-up even when every version holds.
 */
function expectationsSql(versions: string, ids: string, probe: string): string {
  return `current as (
    select assumed.originator_id, assumed.version as expected,
      coalesce((select max(e.${ev.version}) from ${ev.$} e where e.${ev.originatorId} = assumed.originator_id), 0)
        as version
    from json_to_recordset(${versions}::text::json) as assumed(originator_id text, version bigint)
  ), found as (
    select stored.* from json_array_elements_text(${ids}::text::json) as ids(id)
    cross join lateral (
      select ${eventRowTextColumns}, e.${ev.logId} as log_id from ${ev.$} e where e.${ev.eventId} = ids.id::uuid limit 1
    ) stored
    where ${probe}::boolean or exists (select from current where version <> expected)
  ), verdict as (
    select not exists (select from current where version <> expected) and not exists (select from found) as ok
  )`;
}

// A large batch on PostgreSQL is written with COPY instead (copiedWrite): PostgreSQL spends about 40 % less per event
// on COPY's rows than on the statement's JSON (measured on 5000-event batches: 12-16 µs of backend CPU per event
// against 22-30). Its expectations are checked first, in the same transaction, by the statement's own CTEs; a writer
// that commits in between makes the COPY fail on a unique key (originator + version, or event_id), as above. Rows
// with versions after a gap cannot get in either: a version only follows the one the check found, and any other
// writer's event at that version takes the key first.

/** Events from which a batch is written with COPY where the database offers it (below it, one round trip wins). */
export const copyMinEvents = 500;

/** The check alone: no rows when every expectation holds, else what is stored (as the checked write answers). */
export const expectationsCheckSql = `with ${expectationsSql("$1", "$2", "$3")}
  select * from (${whatIsStoredSql}) stored(kind, event_id, log_id, originator_id, version, entity_type, event_type,
    payload, metadata, occurred_on_seconds, occurred_on_nanos)`;

const copyEventsSql = `copy ${ev.$} (${ev.eventId}, ${ev.originatorId}, ${ev.version}, ${ev.entityType}, ${ev.action},
  ${ev.eventType}, ${ev.payload}, ${ev.metadata}, ${ev.occurredOnSeconds}, ${ev.occurredOnNanos}) from stdin`;

// The log ids the COPY drew. The events trigger took the log's lock before the first id was drawn and holds it until
// commit, so no other writer drew an id meanwhile: the COPY's rows have the ids up to this session's last one, one
// after the other in row order (COPY draws them row by row). This reads their count and bounds, one row, to check it.
const copiedRangeSql = `select count(*)::int as n, min(e.${ev.logId})::text as first, max(e.${ev.logId})::text as last
  from ${ev.$} e
  where e.${ev.logId} > (select currval(pg_get_serial_sequence('${ev.$}', '${ev.logId}'))) - $1
    and e.${ev.logId} <= (select currval(pg_get_serial_sequence('${ev.$}', '${ev.logId}')))`;

type CheckedWriteRow = { kind: "w" | "v" | "e"; log_id: string | null } & {
  [K in keyof EventRowText]: EventRowText[K] | null;
};

/** What the database holds that a plan depends on: stored events by event_id, current versions by originator. */
interface Known {
  readonly existing: Map<string, ExistingEvent>;
  readonly current: Map<string, bigint>;
}

/**
 * Appends several independent requests in ONE atomic write (group commit): each request is still all-or-nothing and
 * is judged as if it ran alone, in batch order, but the batch pays for one commit, and in the usual case for one
 * round trip. The batch is planned first on an assumption (each originator is at the version before its first event
 * in the batch, and every event id is new), and the write checks that assumption in the same statement; when it does
 * not hold (a conflict, an idempotent retry), the statement returns what is stored and the batch is planned again
 * against that.
 */
export async function appendBatch(
  database: Database,
  requests: readonly (readonly ValidEvent[])[],
  signal?: AbortSignal,
  copyFrom = copyMinEvents,
): Promise<AppendOutcome[]> {
  let known: Known | undefined;
  let probe = false;
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await runBatch(database, requests, known, probe, signal, copyFrom);
      if ("outcomes" in result) return result.outcomes;
      known = result.known;
    } catch (error) {
      if (violatedConstraint(error) === undefined) throw error;
      // An event id is stored already, or another writer won a race for a key: the next statement probes every id,
      // its check fails and it says what is stored.
      probe = true;
    }
    if (attempt >= maxAttempts) throw new Error(`an append batch lost ${maxAttempts} races in a row`);
  }
}

/** The versions the batch assumes when nothing is known: each originator just before its first event here. */
function assumedVersions(requests: readonly (readonly ValidEvent[])[]): Map<string, bigint> {
  const current = new Map<string, bigint>();
  for (const events of requests) {
    for (const event of events) {
      if (!current.has(event.originatorId)) current.set(event.originatorId, event.version - 1n);
    }
  }
  return current;
}

/**
 * One planned, checked write. Without `known` the plan rests on {@link assumedVersions} and no stored event ids.
 * `probe` looks the clients' event ids up even when every version holds. `signal` cancels the statement, and a write
 * not yet sent is not sent. A write of `copyFrom` events or more goes by COPY where the database has it.
 */
async function runBatch(
  database: Database,
  requests: readonly (readonly ValidEvent[])[],
  known: Known | undefined,
  probe: boolean,
  signal: AbortSignal | undefined,
  copyFrom: number,
): Promise<{ outcomes: AppendOutcome[] } | { known: Known }> {
  const existing = known?.existing ?? new Map<string, ExistingEvent>();
  const current = known?.current ?? assumedVersions(requests);
  const plans = planBatch(requests, existing, current);
  const toInsert =
    requests.length === 1 && plans[0]!.kind === "insert"
      ? requests[0]!
      : requests.filter((_, i) => plans[i]!.kind === "insert").flat();
  let logIds = new Map<string, bigint>();
  // With what is stored in hand and nothing to write, the plan is the answer (as if it had run alone, at that read).
  if (toInsert.length > 0 || known === undefined) {
    signal?.throwIfAborted();
    // An event_id the server generated a moment ago cannot be stored yet: check only the clients' own.
    const newIds = new Set<string>();
    for (const events of requests) {
      for (const e of events) if (e.eventIdGiven && !existing.has(e.eventId)) newIds.add(e.eventId);
    }
    const write = toInsert.length >= copyFrom ? copiedWrite : checkedWrite;
    const written = await write(database, toInsert, current, [...newIds], probe, signal);
    if ("known" in written) {
      for (const [id, event] of existing) written.known.existing.set(id, event);
      return written;
    }
    logIds = written.logIds;
  }
  const outcomes = outcomesOf(requests, plans, logIds);
  return { outcomes };
}

/** Each request's outcome once its plan ran: `logIds` has the ids of the events that were inserted. */
export function outcomesOf(
  requests: readonly (readonly ValidEvent[])[],
  plans: readonly RequestPlan[],
  logIds: ReadonlyMap<string, bigint>,
): AppendOutcome[] {
  const insertedIds = requests.map((events, i) =>
    plans[i]!.kind === "insert" ? events.map((e) => logIds.get(e.eventId)!) : [],
  );
  return plans.map((plan, i): AppendOutcome => {
    switch (plan.kind) {
      case "insert":
        return { logIds: insertedIds[i]!, written: true };
      case "reject":
        return { error: plan.error };
      case "replay":
        return {
          logIds: plan.sources.map((s) => ("logId" in s ? s.logId : insertedIds[s.request]![s.index]!)),
          written: false,
        };
    }
  });
}

/**
 * Writes `batch` when every version is the `expected` one and no id of `newEventIds` is stored (`probe`: look them up
 * even when the versions hold); otherwise writes nothing and says what is stored.
 */
type BatchWrite = (
  database: Database,
  batch: readonly ValidEvent[],
  expected: ReadonlyMap<string, bigint>,
  newEventIds: readonly string[],
  probe: boolean,
  signal: AbortSignal | undefined,
) => Promise<{ logIds: Map<string, bigint> } | { known: Known }>;

/** A {@link BatchWrite} in one statement (see checkedWriteSql). */
const checkedWrite: BatchWrite = async (database, batch, expected, newEventIds, probe, signal) => {
  const input = checkedWriteInput(batch);
  const versions = checkedWriteVersions(expected);
  const rows = await database.query<CheckedWriteRow>(
    checkedWriteSql,
    [input, versions, JSON.stringify(newEventIds), probe],
    signal,
  );
  if (rows.length === batch.length && rows.every((row) => row.kind === "w")) {
    const logIds = new Map<string, bigint>();
    for (const row of rows) logIds.set(row.event_id!, BigInt(row.log_id!));
    return { logIds };
  }
  return { known: knownOf(rows) };
};

/**
 * {@link checkedWrite} of a large batch with COPY, in one transaction: the check, then (when every expectation holds)
 * the COPY and the read of the log ids it drew. Where the database has no COPY (PGlite), or a string of the batch
 * could not travel as COPY's UTF-8 text, the statement writes it; and when PostgreSQL refuses the COPY for anything
 * but a unique key (which the caller handles), the statement writes it as well, so a refused value fails exactly as
 * it always did.
 */
const copiedWrite: BatchWrite = async (database, batch, expected, newEventIds, probe, signal) => {
  if (database.transaction === undefined || !copyable(batch)) {
    return checkedWrite(database, batch, expected, newEventIds, probe, signal);
  }
  const params = [checkedWriteVersions(expected), JSON.stringify(newEventIds), probe];
  let known: Known | undefined;
  let range: { n: number; first: string; last: string } | undefined;
  try {
    await database.transaction!(async (tx) => {
      // The check, BEGIN and the COPY go in one round trip: the COPY's rows are sent once the check found nothing,
      // else the COPY is failed (nothing written) and the transaction rolls back.
      const checked = tx.query<CheckedWriteRow>(expectationsCheckSql, params);
      // The rows are made while the check travels and runs (a tenth of a batch's time, on its critical path before).
      // postgres.js sends the statements from a microtask, or for a short one from a setImmediate queued there: an
      // immediate queued inside one queued now runs after both.
      const rows = new Promise<Buffer>((resolve) => setImmediate(() => setImmediate(() => resolve(copyRows(batch)))));
      const copied = tx.copyIn(
        copyEventsSql,
        Promise.all([checked, rows]).then(
          ([stored, made]) => (stored.length === 0 ? made : undefined),
          () => undefined,
        ),
      );
      // Handled here at once: a cancel (the callers' deadlines) can fail the COPY while the check is still awaited.
      copied.catch(() => {});
      // Nothing else may be sent until the COPY has ended (PostgreSQL drops a connection that sends a statement in
      // the middle of one): the COPY is settled before this function ends, whatever the check says.
      const stored = await checked.catch(async (error: unknown) => {
        await copied.catch(() => {});
        throw error;
      });
      if (stored.length > 0) {
        known = knownOf(stored);
        await copied.catch(() => {});
        throw new ExpectationsFailed();
      }
      await copied;
      // The range and COMMIT go together too: the log's lock is held for one round trip after the COPY.
      const read = tx.query<{ n: number; first: string; last: string }>(copiedRangeSql, [batch.length]);
      // Both awaited together, so that neither is left failing unheard (a lost connection fails both).
      const [bounds] = await Promise.all([read, tx.commit()]);
      range = bounds[0];
    }, signal);
  } catch (error) {
    if (known !== undefined) return { known };
    if (violatedConstraint(error) !== undefined || isConnectionError(error) || isCancelled(error)) throw error;
    if (!isPostgresError(error)) throw error;
    return checkedWrite(database, batch, expected, newEventIds, probe, signal);
  }
  const first = BigInt(range!.first);
  if (range!.n !== batch.length || BigInt(range!.last) - first + 1n !== BigInt(batch.length)) {
    // Only a writer drawing log ids without the log's lock could cause this: the rows are stored, a retry replays them.
    throw new Error(`the ${batch.length} rows of a COPY did not get one run of log ids: ${JSON.stringify(range)}`);
  }
  return { logIds: new Map(batch.map((event, i) => [event.eventId, first + BigInt(i)])) };
};

/** Thrown in a COPY's transaction when the check found an expectation broken: it rolls back. */
class ExpectationsFailed extends Error {}

function knownOf(rows: readonly CheckedWriteRow[]): Known {
  const known: Known = { existing: new Map(), current: new Map() };
  for (const row of rows) {
    if (row.kind === "v") known.current.set(row.originator_id!, BigInt(row.version!));
    else if (row.kind === "e") {
      const event = fromEventRowText(row as EventRowText);
      known.existing.set(event.eventId, { ...event, logId: BigInt(row.log_id!) });
    }
  }
  return known;
}
