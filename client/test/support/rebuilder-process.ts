/**
 * A process that rebuilds a projection of the tick read model (tick-projection.ts), for the tests that kill it:
 * started as `node --import tsx client/test/support/rebuilder-process.ts`, so that SIGKILL hits the rebuilding process
 * itself. It prints `applying <first id> <last id>` when its handler starts on a batch, before the batch commits (so a
 * test that kills it right after that line kills it mid-batch), then `switched <position>` and exits 0 once the
 * rebuild switched over.
 *
 * Environment: ESKIT_URL (the Event Store), PROJECTION_DATABASE_URL, PROJECTION_NAME, PROJECTION_SELECTOR,
 * PROJECTION_TABLE_PREFIX (before the read model's table names, which are what it rebuilds), PROJECTION_BATCH_SIZE
 * (default 20), PROJECTION_SLEEP_MS (the handler sleeps this long in each transaction, after its writes; default 0),
 * REBUILD_SWITCH_WITHIN (default 100).
 */
import { rebuild } from "../../src/projection.js";
import { fromEnvironment, required } from "./process-environment.js";
import { applyTicks, createTickTables } from "./tick-projection.js";

const prefix = required("PROJECTION_TABLE_PREFIX");
const { options, sleepSeconds, close } = fromEnvironment();

const rebuilding = rebuild({
  ...options,
  tables: [`${prefix}applied`, `${prefix}tick_totals`],
  switchWithin: Number(process.env["REBUILD_SWITCH_WITHIN"] ?? "100"),
  statusIntervalMs: 100,
  setup: (tx, context) => createTickTables(tx, { table: (base) => context.table(prefix + base) }),
  handle: async (entries, tx, context) => {
    process.stdout.write(`applying ${entries[0]!.id} ${entries.at(-1)!.id}\n`);
    await applyTicks(entries, tx, { ...context, table: (base) => context.table(prefix + base) });
    if (sleepSeconds > 0) await tx`select pg_sleep(${sleepSeconds})`;
  },
});

rebuilding.done.then(
  async (summary) => {
    process.stdout.write(`switched ${summary.position}\n`);
    await close();
    process.exit(summary.switched ? 0 : 2);
  },
  async (error: unknown) => {
    process.stderr.write(`rebuild failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    await close();
    process.exit(1);
  },
);
