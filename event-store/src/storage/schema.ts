import { sql } from "drizzle-orm";
import { bigint, index, integer, jsonb, pgTable, primaryKey, text, timestamp, unique, uuid } from "drizzle-orm/pg-core";

/**
 * Every event ever appended, one row each. `seq` is internal (it orders nothing a user sees); the order users see
 * is the Application Log's id, assigned in `app_log`.
 */
export const events = pgTable(
  "events",
  {
    seq: bigint("seq", { mode: "bigint" }).primaryKey().generatedAlwaysAsIdentity(),
    eventId: uuid("event_id").notNull().unique("events_event_id_key"),
    originatorId: text("originator_id").notNull(),
    version: bigint("version", { mode: "bigint" }).notNull(),
    entityType: text("entity_type").notNull(),
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
    // The originators of a type, each once (by its first event): List in the Crud Store pages through this, at a cost
    // that does not grow with the events per originator or with other types.
    index("events_entity_type_first_idx")
      .on(t.entityType, t.originatorId)
      .where(sql`version = 1`),
  ],
);

/**
 * The Application Log: one entry per event, ids strictly increasing in commit order. A statement-level trigger
 * (see the migrations) takes a transaction-scoped advisory lock before any id is drawn, so ids are drawn and
 * committed one transaction at a time and a reader can never see id N before a lower id commits.
 */
export const appLog = pgTable(
  "app_log",
  {
    id: bigint("id", { mode: "bigint" }).primaryKey().generatedAlwaysAsIdentity(),
    eventSeq: bigint("event_seq", { mode: "bigint" })
      .notNull()
      .unique("app_log_event_seq_key")
      .references(() => events.seq),
    entityType: text("entity_type").notNull(),
    action: text("action").notNull(),
  },
  (t) => [
    index("app_log_entity_type_id_idx").on(t.entityType, t.id),
    index("app_log_action_id_idx").on(t.action, t.id),
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
