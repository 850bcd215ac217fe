import type { EventStoreError } from "../domain/errors.js";
import type { ValidEvent } from "../domain/validate-append.js";
import type { Database } from "../storage/database.js";
import { violatedConstraint } from "../storage/errors.js";
import { type EventRowText, eventRowTextColumns, fromEventRowText } from "../storage/event-row-text.js";
import { ev, log } from "../storage/sql-names.js";
import { type ExistingEvent, planBatch } from "../domain/plan-batch.js";

/**
 * The outcome of one request of a batch: its log ids (`written`: by this batch, not an idempotent replay of events
 * already stored), or why it was rejected.
 */
export type AppendOutcome =
  { readonly logIds: bigint[]; readonly written: boolean } | { readonly error: EventStoreError };

// A batch that loses a race on a unique key is planned again against what the winner wrote.
const maxAttempts = 8;

const readExistingSql = `
  select ${eventRowTextColumns}, l.${log.id}::text as log_id
  from ${ev.$} e join ${log.$} l on l.${log.eventSeq} = e.${ev.seq}
  where e.${ev.eventId} in (select value::uuid from json_array_elements_text($1::text::json))`;

const readVersionsSql = `
  select o.value as originator_id,
    (select max(e.${ev.version}) from ${ev.$} e where e.${ev.originatorId} = o.value)::text as version
  from json_array_elements_text($1::text::json) o`;

// One statement writes the whole batch: the events, then their log entries in input order (`n`), so one request's
// events get increasing ids. A statement is atomic on its own; doing without BEGIN/COMMIT means the log's advisory
// lock (taken by the app_log trigger) is held for the statement and its commit only, never across a network round
// trip. Rows travel as one JSON parameter: fixed SQL text (prepared once), no parameter-count limit. The input's
// field names are this statement's own; every table and column name comes from the schema (sql-names.ts).
const writeSql = `
  with input as (
    select * from json_to_recordset($1::text::json) as x(
      n int, event_id uuid, originator_id text, version bigint, entity_type text, action text, event_type text,
      payload text, metadata jsonb, seconds bigint, nanos int)
  ), inserted as (
    insert into ${ev.$} (${ev.eventId}, ${ev.originatorId}, ${ev.version}, ${ev.entityType}, ${ev.eventType},
                         ${ev.payload}, ${ev.metadata}, ${ev.occurredOnSeconds}, ${ev.occurredOnNanos})
    select event_id, originator_id, version, entity_type, event_type, payload, metadata, seconds, nanos from input
    returning ${ev.seq} as seq, ${ev.eventId} as event_id
  ), logged as (
    insert into ${log.$} (${log.eventSeq}, ${log.entityType}, ${log.action})
    select inserted.seq, input.entity_type, input.action from input join inserted using (event_id) order by input.n
    returning ${log.id} as id, ${log.eventSeq} as event_seq
  )
  select inserted.event_id::text as event_id, logged.id::text as log_id
  from logged join inserted on inserted.seq = logged.event_seq`;

/**
 * Appends several independent requests in ONE atomic write (group commit): each request is still all-or-nothing and
 * is judged as if it ran alone, in batch order, but the batch pays for one commit.
 *
 * The reads that judge the batch run before the write, outside it: a writer that slips in between makes the write
 * fail on a unique key (originator + version, or event_id), and the batch is judged again against what it wrote.
 */
export async function appendBatch(
  database: Database,
  requests: readonly (readonly ValidEvent[])[],
  signal?: AbortSignal,
): Promise<AppendOutcome[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await runBatch(database, requests, signal);
    } catch (error) {
      if (violatedConstraint(error) === undefined || attempt >= maxAttempts) throw error;
    }
  }
}

/** Like {@link appendBatch}, once; `signal` cancels its statements, and a write not yet sent is not sent. */
async function runBatch(
  database: Database,
  requests: readonly (readonly ValidEvent[])[],
  signal: AbortSignal | undefined,
): Promise<AppendOutcome[]> {
  const all = requests.flat();
  const [existing, current] = await Promise.all([
    // An event_id the server generated a moment ago cannot be stored yet: look up only the clients' own.
    readExisting(database, [...new Set(all.filter((e) => e.eventIdGiven).map((e) => e.eventId))], signal),
    readCurrentVersions(database, [...new Set(all.map((e) => e.originatorId))], signal),
  ]);
  const plans = planBatch(requests, existing, current);
  const toInsert = requests.filter((_, i) => plans[i]!.kind === "insert").flat();
  signal?.throwIfAborted();
  const logIds = toInsert.length === 0 ? new Map<string, bigint>() : await write(database, toInsert, signal);
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

async function readExisting(
  database: Database,
  eventIds: string[],
  signal: AbortSignal | undefined,
): Promise<Map<string, ExistingEvent>> {
  if (eventIds.length === 0) return new Map();
  const rows = await database.query<EventRowText & { log_id: string }>(
    readExistingSql,
    [JSON.stringify(eventIds)],
    signal,
  );
  return new Map(rows.map((row) => [row.event_id, { ...fromEventRowText(row), logId: BigInt(row.log_id) }]));
}

async function readCurrentVersions(
  database: Database,
  originatorIds: string[],
  signal: AbortSignal | undefined,
): Promise<Map<string, bigint>> {
  const rows = await database.query<{ originator_id: string; version: string | null }>(
    readVersionsSql,
    [JSON.stringify(originatorIds)],
    signal,
  );
  return new Map(rows.map((row) => [row.originator_id, BigInt(row.version ?? 0)]));
}

async function write(
  database: Database,
  batch: readonly ValidEvent[],
  signal: AbortSignal | undefined,
): Promise<Map<string, bigint>> {
  const input = JSON.stringify(
    batch.map((e, n) => ({
      n,
      event_id: e.eventId,
      originator_id: e.originatorId,
      version: e.version.toString(),
      entity_type: e.entityType,
      action: e.action,
      event_type: e.eventType,
      payload: e.payload,
      metadata: e.metadata,
      seconds: e.occurredOn.seconds.toString(),
      nanos: e.occurredOn.nanos,
    })),
  );
  const rows = await database.query<{ event_id: string; log_id: string }>(writeSql, [input], signal);
  return new Map(rows.map((row) => [row.event_id, BigInt(row.log_id)]));
}
