import { inArray, max } from "drizzle-orm";
import type { ExistingEvent } from "../domain/plan-batch.js";
import { planBatch } from "../domain/plan-batch.js";
import type { ValidEvent } from "../domain/validate-append.js";
import type { Database } from "../storage/database.js";
import { violatedConstraint } from "../storage/errors.js";
import { events } from "../storage/schema.js";
import { type AppendOutcome, outcomesOf } from "./append-batch.js";

const maxAttempts = 8;

/**
 * The append of a batch as the design card first described it: a Drizzle transaction (BEGIN; the stored event ids
 * and current versions read through the query builder; the plan; one INSERT through the query builder; COMMIT),
 * against the schema's tables. It decides exactly what {@link appendBatch} decides, and is kept to be measured beside
 * it (`ESKIT_APPEND_PATH=drizzle-transaction`; docs/benchmarks.md has the figures and why it is not the default):
 * it takes four round trips to the one statement's one, holds the log's lock across the COMMIT's round trip, and its
 * statements are not cancelled by a caller's deadline (Drizzle's transactions take no signal).
 */
export async function appendBatchInTransaction(
  database: Database,
  requests: readonly (readonly ValidEvent[])[],
): Promise<AppendOutcome[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await database.db.transaction(async (tx) => {
        const all = requests.flat();
        const givenIds = [...new Set(all.filter((e) => e.eventIdGiven).map((e) => e.eventId))];
        const originators = [...new Set(all.map((e) => e.originatorId))];
        const stored =
          givenIds.length === 0 ? [] : await tx.select().from(events).where(inArray(events.eventId, givenIds));
        const versions = await tx
          .select({ originatorId: events.originatorId, version: max(events.version) })
          .from(events)
          .where(inArray(events.originatorId, originators))
          .groupBy(events.originatorId);
        const existing = new Map<string, ExistingEvent>(
          stored.map((row) => [
            row.eventId,
            {
              originatorId: row.originatorId,
              version: row.version,
              eventType: row.eventType,
              entityType: row.entityType,
              action: row.action,
              payload: row.payload,
              metadata: row.metadata,
              occurredOn: { seconds: row.occurredOnSeconds, nanos: row.occurredOnNanos },
              eventId: row.eventId,
              logId: row.logId,
            },
          ]),
        );
        const current = new Map(versions.map((row) => [row.originatorId, BigInt(row.version ?? 0)]));
        const plans = planBatch(requests, existing, current);
        const toInsert = requests.filter((_, i) => plans[i]!.kind === "insert").flat();
        const inserted =
          toInsert.length === 0
            ? []
            : await tx
                .insert(events)
                .values(
                  toInsert.map((e) => ({
                    eventId: e.eventId,
                    originatorId: e.originatorId,
                    version: e.version,
                    entityType: e.entityType,
                    action: e.action,
                    eventType: e.eventType,
                    payload: e.payload,
                    metadata: e.metadata,
                    occurredOnSeconds: e.occurredOn.seconds,
                    occurredOnNanos: e.occurredOn.nanos,
                  })),
                )
                .returning({ eventId: events.eventId, logId: events.logId });
        return outcomesOf(requests, plans, new Map(inserted.map((row) => [row.eventId, row.logId])));
      });
    } catch (error) {
      if (violatedConstraint(error) === undefined || attempt >= maxAttempts) throw error;
    }
  }
}
