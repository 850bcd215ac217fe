-- The events table becomes the Application Log: one row per event, whose log id is drawn under the log's advisory
-- lock (the trigger below, as app_log's was). Before, each event was two heap rows (events, app_log), seven index
-- entries and a foreign-key check; now it is one row and five index entries.
--
-- An existing database is carried over with every log id as it was: the rows are copied in log order (so a
-- catch-up reads the table front to back), the id sequence continues where app_log's stopped, and the migration
-- fails rather than drop an event that has no log entry. It rewrites the table under an exclusive lock: stop every
-- older Event Store process first (they write to app_log, which goes); see docs/deployment.md.
CREATE TABLE "events_v3" (
	"log_id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "events_log_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"event_id" uuid NOT NULL,
	"originator_id" text NOT NULL,
	"version" bigint NOT NULL,
	"entity_type" text NOT NULL,
	"action" text NOT NULL,
	"event_type" text NOT NULL,
	"payload" text NOT NULL,
	"metadata" jsonb NOT NULL,
	"occurred_on_seconds" bigint NOT NULL,
	"occurred_on_nanos" integer NOT NULL
);
--> statement-breakpoint
INSERT INTO "events_v3" ("log_id", "event_id", "originator_id", "version", "entity_type", "action", "event_type",
                         "payload", "metadata", "occurred_on_seconds", "occurred_on_nanos")
  OVERRIDING SYSTEM VALUE
  SELECT l."id", e."event_id", e."originator_id", e."version", e."entity_type", l."action", e."event_type",
         e."payload", e."metadata", e."occurred_on_seconds", e."occurred_on_nanos"
  FROM "app_log" l JOIN "events" e ON e."seq" = l."event_seq"
  ORDER BY l."id";
--> statement-breakpoint
DO $$
DECLARE
  stored bigint := (SELECT count(*) FROM "events");
  copied bigint := (SELECT count(*) FROM "events_v3");
BEGIN
  IF stored <> copied THEN
    RAISE EXCEPTION 'eskit migration 0003: % events but % log entries; nothing was changed', stored, copied;
  END IF;
END
$$;
--> statement-breakpoint
-- The next id is the one app_log would have drawn (ids of rolled-back appends stay unused, as before).
SELECT setval('"events_log_id_seq"', s.last_value, s.is_called) FROM "app_log_id_seq" s;
--> statement-breakpoint
DROP TABLE "app_log";
--> statement-breakpoint
DROP FUNCTION "eskit_app_log_lock"();
--> statement-breakpoint
DROP FUNCTION "eskit_app_log_notify"();
--> statement-breakpoint
DROP TABLE "events";
--> statement-breakpoint
ALTER TABLE "events_v3" RENAME TO "events";
--> statement-breakpoint
ALTER TABLE "events" RENAME CONSTRAINT "events_v3_pkey" TO "events_pkey";
--> statement-breakpoint
ALTER TABLE "events" ADD CONSTRAINT "events_event_id_key" UNIQUE("event_id");
--> statement-breakpoint
ALTER TABLE "events" ADD CONSTRAINT "events_originator_version_key" UNIQUE("originator_id","version");
--> statement-breakpoint
CREATE INDEX "events_entity_type_log_idx" ON "events" USING btree ("entity_type","log_id");
--> statement-breakpoint
CREATE INDEX "events_action_log_idx" ON "events" USING btree ("action","log_id");
--> statement-breakpoint
CREATE INDEX "events_entity_type_first_idx" ON "events" USING btree ("entity_type","originator_id") WHERE version = 1;
--> statement-breakpoint
-- Gap-free ordering of the log (see docs/guarantees.md): before an INSERT into events draws any log id, take a
-- transaction-scoped advisory lock (the same key as before). Ids are then drawn and committed one transaction at a
-- time: PostgreSQL makes a commit visible before it releases the transaction's locks, so when a reader sees id N,
-- every lower id is already committed or will never exist. The database takes the lock itself, so no writer
-- (another process, a script) can bypass it.
CREATE FUNCTION "eskit_log_lock"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7245308061);
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER "events_log_lock_before_insert" BEFORE INSERT ON "events"
  FOR EACH STATEMENT EXECUTE FUNCTION "eskit_log_lock"();
--> statement-breakpoint
-- Wake every LogsPoll tail (in every process) when entries commit: NOTIFY is delivered at commit, never before. The
-- channel keeps its name, so a tail of an older version still hears it.
CREATE FUNCTION "eskit_log_notify"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('eskit_app_log', '');
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER "events_log_notify_after_insert" AFTER INSERT ON "events"
  FOR EACH STATEMENT EXECUTE FUNCTION "eskit_log_notify"();
