import { type BenchConfig, describeConfig, loadBenchConfig } from "./lib/config.js";
import { type CrudBenchConfig, describeCrudConfig, loadCrudBenchConfig } from "./lib/crud-config.js";
import { measureCreates } from "./lib/crud-creates.js";
import { measureGets } from "./lib/crud-gets.js";
import { measureList } from "./lib/crud-list.js";
import { measureSequential } from "./lib/crud-sequential.js";
import { startCrudStack } from "./lib/crud-stack.js";
import { isMain } from "./lib/is-main.js";
import { printTable, progress } from "./lib/table.js";
import type { TableSpec } from "./lib/table-spec.js";

/**
 * Benchmark 4: the Crud Store on one Event Store — Creates/s against the Event Store Append they wrap, Get latency
 * of a long history against a short one (and without snapshots), and List over many documents against the
 * ListOriginators it starts from. Each baseline is measured in the same run, so the ratios hold on a noisy machine
 * where absolute figures drift. Every answer is checked: a benchmark that returns wrong results is worthless.
 */
export async function crudStore(
  config: BenchConfig,
  crudConfig: CrudBenchConfig = loadCrudBenchConfig(),
): Promise<void> {
  progress(`crud: starting an Event Store (${crudConfig.storage}) and two Crud Stores`);
  const stack = await startCrudStack(config, crudConfig);
  const tables: TableSpec[] = [];
  try {
    tables.push(await measureCreates(config, crudConfig, stack));
    tables.push(await measureGets(config, crudConfig, stack));
    tables.push(await measureList(config, crudConfig, stack));
    tables.push(await measureSequential(config, stack));
  } finally {
    await stack.stop();
  }
  const settings = [
    describeConfig(config),
    describeCrudConfig(crudConfig),
    `storage: ${stack.storage}; the Event Store and both Crud Stores run as ${config.server === "process" ? "child processes" : "part of this process"}`,
    "CPU% = share of one core in the measured window: cli = this process, crud = the Crud Store processes, es = the Event Store process, pg = PostgreSQL backends of the bench database + WAL writer/bgwriter/checkpointer",
  ];
  for (const table of tables) printTable(table.title, table.columns, table.rows, [...table.notes, ...settings]);
}

if (isMain(import.meta.url)) await crudStore(loadBenchConfig());
