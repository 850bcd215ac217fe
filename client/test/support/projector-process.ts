/**
 * A process that projects the log into the tick read model (tick-projection.ts), for the tests that kill it: started
 * as `node --import tsx client/test/support/projector-process.ts`, so that SIGKILL hits the projecting process itself.
 * It prints `applying <first id> <last id>` when its handler starts on a batch, before the batch commits (so a test
 * that kills it right after that line kills it mid-batch), and stops cleanly on SIGTERM.
 *
 * Environment: ESKIT_URL (the Event Store), PROJECTION_DATABASE_URL, PROJECTION_NAME, PROJECTION_SELECTOR,
 * PROJECTION_BATCH_SIZE (default 20), PROJECTION_SLEEP_MS (the handler sleeps this long in each transaction, after its
 * writes; default 0), PROJECTION_TABLE_PREFIX (before the read model's table names; default none).
 */
import { project } from "../../src/projection.js";
import { fromEnvironment } from "./process-environment.js";
import { applyTicks, createTickTables } from "./tick-projection.js";

const prefix = process.env["PROJECTION_TABLE_PREFIX"] ?? "";
const { options, sleepSeconds, close } = fromEnvironment();

const projection = project({
  ...options,
  statusIntervalMs: 200,
  setup: (tx, context) => createTickTables(tx, { table: (base) => prefix + context.table(base) }),
  handle: async (entries, tx, context) => {
    process.stdout.write(`applying ${entries[0]!.id} ${entries.at(-1)!.id}\n`);
    await applyTicks(entries, tx, { ...context, table: (base) => prefix + context.table(base) });
    if (sleepSeconds > 0) await tx`select pg_sleep(${sleepSeconds})`;
  },
});

process.once("SIGTERM", () => {
  void projection
    .stop()
    .then(close)
    .then(() => process.exit(0));
});
projection.done.catch(async (error: unknown) => {
  process.stderr.write(`projection failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  await close();
  process.exit(1);
});
