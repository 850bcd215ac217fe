-- Gap-free ordering of the Application Log (see README, "Why the log never skips").
-- Before an INSERT into app_log draws any id, take a transaction-scoped advisory lock. Ids are then drawn and
-- committed one transaction at a time: PostgreSQL makes a commit visible before it releases the transaction's locks,
-- so when a reader sees id N, every lower id is already committed or will never exist.
-- The lock is taken by the database itself, so no writer (another process, a script) can bypass it.
CREATE FUNCTION "eskit_app_log_lock"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7245308061);
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER "app_log_lock_before_insert" BEFORE INSERT ON "app_log"
  FOR EACH STATEMENT EXECUTE FUNCTION "eskit_app_log_lock"();
--> statement-breakpoint
-- Wake every LogsPoll tail (in every process) when entries commit: NOTIFY is delivered at commit, never before.
CREATE FUNCTION "eskit_app_log_notify"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('eskit_app_log', '');
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER "app_log_notify_after_insert" AFTER INSERT ON "app_log"
  FOR EACH STATEMENT EXECUTE FUNCTION "eskit_app_log_notify"();
