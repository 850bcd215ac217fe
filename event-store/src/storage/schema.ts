import { sql } from "drizzle-orm";
import { bigint, index, integer, jsonb, pgTable, primaryKey, text, timestamp, unique, uuid } from "drizzle-orm/pg-core";

/**
 * Every event ever appended, one row each, and the Application Log: `log_id` is the event's place in the log, strictly
 * increasing in commit order. A statement-level trigger (see the migrations) takes a transaction-scoped advisory lock
 * before any row is inserted, so log ids are drawn and committed one transaction at a time and a reader can never see
 * id N before a lower id commits. Ids of a transaction that rolled back are never used: the log has holes, never
 * reorderings.
 *
 * Each index serves a query, and a plan test (schema-plans.int.spec.ts) holds it to that query:
 * - the primary key: log pages in id order (Logs, LogsPoll, catch-up);
 * - `events_event_id_key`: idempotent retries, found by their event ids;
 * - `events_originator_version_key`: an originator's events (GetEvents), its current version (every append), and no
 *   two events at one version;
 * - `events_entity_type_log_idx`, `events_action_log_idx`: log pages with a selector (`Order.*`, `*.created`);
 * - `events_entity_type_first_idx`: the originators of a type, each once by its first event (ListOriginators).
 */
export const events = pgTable(
  "events",
  {
    logId: bigint("log_id", { mode: "bigint" }).primaryKey().generatedAlwaysAsIdentity(),
    eventId: uuid("event_id").notNull().unique("events_event_id_key"),
    originatorId: text("originator_id").notNull(),
    version: bigint("version", { mode: "bigint" }).notNull(),
    entityType: text("entity_type").notNull(),
    action: text("action").notNull(),
    eventType: text("event_type").notNull(),
    /** JSON text kept byte for byte (jsonb would reorder keys and reformat numbers). */
    payload: text("payload").notNull(),
    metadata: jsonb("metadata").$type<Record<string, string>>().notNull(),
    /** occurred_on as a protobuf Timestamp, exactly: timestamptz would lose the nanoseconds. */
    occurredOnSeconds: bigint("occurred_on_seconds", { mode: "bigint" }).notNull(),
    occurredOnNanos: integer("occurred_on_nanos").notNull(),
  },
  (t) => [
    unique("events_originator_version_key").on(t.originatorId, t.version),
    index("events_entity_type_log_idx").on(t.entityType, t.logId),
    index("events_action_log_idx").on(t.action, t.logId),
    // The originators of a type, each once (by its first event): List in the Crud Store pages through this, at a cost
    // that does not grow with the events per originator or with other types.
    index("events_entity_type_first_idx")
      .on(t.entityType, t.originatorId)
      .where(sql`version = 1`),
  ],
);

/** States of originators as of a version, so that reading the latest state does not replay the whole history. */
export const snapshots = pgTable(
  "snapshots",
  {
    originatorId: text("originator_id").notNull(),
    version: bigint("version", { mode: "bigint" }).notNull(),
    payload: text("payload").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" })
      .notNull()
      .default(sql`now()`),
  },
  (t) => [primaryKey({ columns: [t.originatorId, t.version] })],
);

/** Saved positions of Application Log consumers. */
export const consumerOffsets = pgTable("consumer_offsets", {
  consumerId: text("consumer_id").primaryKey(),
  offset: bigint("offset", { mode: "bigint" }).notNull(),
  updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" })
    .notNull()
    .default(sql`now()`),
});
