-- The NOTIFY that wakes every LogsPoll tail now names the last log id drawn when the entries commit: the trigger runs
-- under the log's lock (taken before the first id was drawn, held until commit), so that is this statement's last id.
-- A tail whose ring already holds it (it put its own process's commit there as the commit returned) has nothing to
-- read. A tail of an older version wakes on any payload, as before.
--
-- The sequence's last value does not depend on the statement's snapshot, but reading it needs a privilege on the
-- sequence that drawing ids does not: the function runs with its owner's rights (the role that migrated, which owns the
-- sequence), so a service role that may only insert still can. Hence also the fixed search_path, and the sequence named
-- through the trigger's own schema.
CREATE OR REPLACE FUNCTION "eskit_log_notify"() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
  PERFORM pg_notify(
    'eskit_app_log',
    coalesce(pg_sequence_last_value(format('%I.%I', TG_TABLE_SCHEMA, 'events_log_id_seq')::regclass)::text, '')
  );
  RETURN NULL;
END
$$;
