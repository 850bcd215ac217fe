import type { EventStoreError } from "../domain/errors.js";
import type { ValidEvent } from "../domain/validate-append.js";
import type { Database } from "../storage/database.js";
import { violatedConstraint } from "../storage/errors.js";
import { type EventRowText, eventRowTextColumns, fromEventRowText } from "../storage/event-row-text.js";
import { ev } from "../storage/sql-names.js";
import { checkedWriteInput, checkedWriteVersions } from "./checked-write-input.js";
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
  ), current as (
    select assumed.originator_id, assumed.version as expected,
      coalesce((select max(e.${ev.version}) from ${ev.$} e where e.${ev.originatorId} = assumed.originator_id), 0)
        as version
    from json_to_recordset($2::text::json) as assumed(originator_id text, version bigint)
  ), found as (
    select stored.* from json_array_elements_text($3::text::json) as ids(id)
    cross join lateral (
      select ${eventRowTextColumns}, e.${ev.logId} as log_id from ${ev.$} e where e.${ev.eventId} = ids.id::uuid limit 1
    ) stored
    where $4::boolean or exists (select from current where version <> expected)
  ), verdict as (
    select not exists (select from current where version <> expected) and not exists (select from found) as ok
  ), inserted as (
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
  select 'v', null, null, originator_id, version::text, null, null, null, null, null, null
  from current where not (select ok from verdict)
  union all
  select 'e', event_id, log_id::text, originator_id, version, entity_type, event_type, payload, metadata,
    occurred_on_seconds, occurred_on_nanos
  from found where not (select ok from verdict)`;

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
): Promise<AppendOutcome[]> {
  let known: Known | undefined;
  let probe = false;
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await runBatch(database, requests, known, probe, signal);
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
 * not yet sent is not sent.
 */
async function runBatch(
  database: Database,
  requests: readonly (readonly ValidEvent[])[],
  known: Known | undefined,
  probe: boolean,
  signal: AbortSignal | undefined,
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
    const written = await checkedWrite(database, toInsert, current, [...newIds], probe, signal);
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

async function checkedWrite(
  database: Database,
  batch: readonly ValidEvent[],
  expected: ReadonlyMap<string, bigint>,
  newEventIds: readonly string[],
  probe: boolean,
  signal: AbortSignal | undefined,
): Promise<{ logIds: Map<string, bigint> } | { known: Known }> {
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
  const known: Known = { existing: new Map(), current: new Map() };
  for (const row of rows) {
    if (row.kind === "v") known.current.set(row.originator_id!, BigInt(row.version!));
    else if (row.kind === "e") {
      const event = fromEventRowText(row as EventRowText);
      known.existing.set(event.eventId, { ...event, logId: BigInt(row.log_id!) });
    }
  }
  return { known };
}
