import { eq, inArray, max } from "drizzle-orm";
import type { EventStoreError } from "../domain/errors.js";
import type { ValidEvent } from "../domain/validate-append.js";
import type { Db } from "../storage/database.js";
import { eventColumns, toStoredEvent } from "../storage/event-rows.js";
import { violatedConstraint } from "../storage/errors.js";
import { appLog, events } from "../storage/schema.js";
import { type ExistingEvent, planBatch } from "./plan-batch.js";

/** The outcome of one request of a batch: its log ids, or why it was rejected. */
export type AppendOutcome = { readonly logIds: bigint[] } | { readonly error: EventStoreError };

// PostgreSQL takes at most 65,535 parameters per statement; an events row has 9.
const rowsPerInsert = 1000;
// A batch that loses a race on a unique key is planned again against what the winner wrote.
const maxAttempts = 8;

/**
 * Appends several independent requests in ONE transaction (group commit): each request is still all-or-nothing and
 * is judged as if it ran alone, in batch order, but the batch pays for one commit.
 *
 * Inserting into `app_log` makes the database take the log's advisory lock (see the migrations), so log ids are
 * drawn and made visible in commit order across every process.
 */
export async function appendBatch(db: Db, requests: readonly (readonly ValidEvent[])[]): Promise<AppendOutcome[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction((tx) => runBatch(tx as unknown as Db, requests));
    } catch (error) {
      // Another writer stored the same originator version or event_id between our read and our insert: plan again.
      if (violatedConstraint(error) === undefined || attempt >= maxAttempts) throw error;
    }
  }
}

async function runBatch(tx: Db, requests: readonly (readonly ValidEvent[])[]): Promise<AppendOutcome[]> {
  const all = requests.flat();
  const [existing, current] = await Promise.all([
    readExisting(tx, [...new Set(all.map((e) => e.eventId))]),
    readCurrentVersions(tx, [...new Set(all.map((e) => e.originatorId))]),
  ]);
  const plans = planBatch(requests, existing, current);
  const toInsert = requests.filter((_, i) => plans[i]!.kind === "insert").flat();
  const logIds = await insertEvents(tx, toInsert);
  const insertedIds = requests.map((events, i) =>
    plans[i]!.kind === "insert" ? events.map((e) => logIds.get(e.eventId)!) : [],
  );
  return plans.map((plan, i): AppendOutcome => {
    switch (plan.kind) {
      case "insert":
        return { logIds: insertedIds[i]! };
      case "reject":
        return { error: plan.error };
      case "replay":
        return { logIds: plan.sources.map((s) => ("logId" in s ? s.logId : insertedIds[s.request]![s.index]!)) };
    }
  });
}

async function readExisting(tx: Db, eventIds: string[]): Promise<Map<string, ExistingEvent>> {
  const rows = await tx
    .select({ ...eventColumns, logId: appLog.id })
    .from(events)
    .innerJoin(appLog, eq(appLog.eventSeq, events.seq))
    .where(inArray(events.eventId, eventIds));
  return new Map(rows.map((row) => [row.eventId, { ...toStoredEvent(row), logId: row.logId }]));
}

async function readCurrentVersions(tx: Db, originatorIds: string[]): Promise<Map<string, bigint>> {
  const rows = await tx
    .select({ originatorId: events.originatorId, version: max(events.version) })
    .from(events)
    .where(inArray(events.originatorId, originatorIds))
    .groupBy(events.originatorId);
  return new Map(rows.map((row) => [row.originatorId, row.version ?? 0n]));
}

/** Inserts the events, then their log entries in the same order; returns log id by event_id. */
async function insertEvents(tx: Db, batch: readonly ValidEvent[]): Promise<Map<string, bigint>> {
  const logIds = new Map<string, bigint>();
  if (batch.length === 0) return logIds;
  const seqs = new Map<string, bigint>();
  for (let i = 0; i < batch.length; i += rowsPerInsert) {
    const rows = await tx
      .insert(events)
      .values(
        batch.slice(i, i + rowsPerInsert).map((e) => ({
          eventId: e.eventId,
          originatorId: e.originatorId,
          version: e.version,
          entityType: e.entityType,
          eventType: e.eventType,
          payload: e.payload,
          metadata: e.metadata,
          occurredOnSeconds: e.occurredOn.seconds,
          occurredOnNanos: e.occurredOn.nanos,
        })),
      )
      .returning({ seq: events.seq, eventId: events.eventId });
    for (const row of rows) seqs.set(row.eventId, row.seq);
  }
  // Log entries go in request order, so one request's events get increasing ids.
  for (let i = 0; i < batch.length; i += rowsPerInsert) {
    const chunk = batch.slice(i, i + rowsPerInsert);
    const rows = await tx
      .insert(appLog)
      .values(chunk.map((e) => ({ eventSeq: seqs.get(e.eventId)!, entityType: e.entityType, action: e.action })))
      .returning({ id: appLog.id, eventSeq: appLog.eventSeq });
    const idBySeq = new Map(rows.map((r) => [r.eventSeq, r.id]));
    for (const e of chunk) logIds.set(e.eventId, idBySeq.get(seqs.get(e.eventId)!)!);
  }
  return logIds;
}
