import { randomUUID } from "node:crypto";
import type { Sql } from "postgres";
import { action, entityType } from "./sample-events.js";
import type { NewEvent } from "@eskit/client/new-event.js";

/**
 * The raw baseline of an append: the rows the store writes for `events`, inserted with postgres.js directly in
 * one statement — one multi-row INSERT into `events` (whose trigger takes the log's advisory lock and so orders the
 * log ids, as for the store). No idempotency or version checks, no RPC, no validation: the
 * floor cost of the same durable writes.
 */
export async function rawAppend(sql: Sql, batch: readonly NewEvent[]): Promise<number> {
  const now = Date.now();
  const seconds = String(Math.floor(now / 1000));
  const nanos = (now % 1000) * 1_000_000;
  const rows = batch.map((e) => ({
    event_id: e.eventId ?? randomUUID(),
    originator_id: e.originatorId,
    version: e.version.toString(),
    entity_type: entityType,
    action,
    event_type: e.eventType,
    payload: e.payload as string,
    metadata: JSON.stringify(e.metadata ?? {}),
    occurred_on_seconds: seconds,
    occurred_on_nanos: nanos,
  }));
  await sql`insert into events ${sql(rows)}`;
  return batch.length;
}
