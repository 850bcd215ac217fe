import type { AppLogEntry } from "@eskit/client";
import { createNodeTransport } from "@eskit/client/node.js";
import { project } from "@eskit/client/projection.js";
import postgres, { type ISql, type Sql } from "postgres";
import { type BenchConfig, describeConfig, loadBenchConfig } from "./lib/config.js";
import { type CpuShare, CpuMeter, formatCpu } from "./lib/cpu-meter.js";
import { connectGrpc } from "./lib/eskit-client.js";
import { startBenchServer } from "./lib/event-store-server.js";
import { createFreshDatabase } from "./lib/fresh-database.js";
import { isMain } from "./lib/is-main.js";
import { preloadLog } from "./lib/preload-log.js";
import { count, ratio, target } from "./lib/stats.js";
import { printTable, progress } from "./lib/table.js";

const rounds = 2;
const goal = 0.5;

/** One row of the simple read model: a deposit, as the handler and the raw baseline both write it. */
interface DepositRow {
  readonly log_id: string;
  readonly originator: string;
  readonly version: string;
  readonly amount: number;
  readonly reference: string;
}

interface Timed {
  readonly entriesPerSecond: number;
  readonly cpu: CpuShare;
}

interface ProjectionTimed extends Timed {
  /** From `project()` until it holds the projection and made its table. */
  readonly startupMs: number;
  /** Entries per transaction on average: about the batch size, as batches gather entries across LogsPoll messages. */
  readonly meanBatch: number;
}

/**
 * Benchmark 7: `project()` (issue 15: ≥ 0.5× raw) applying a preloaded log to a simple table, one multi-row INSERT
 * per batch, beside the same rows inserted with postgres.js in batches of the same size, one transaction per batch,
 * one after the other, into the same kind of table of the same database. The projection reads the log from the
 * Event Store (LogsPoll over gRPC), parses each payload, and per batch locks and checks its position row (fencing)
 * and moves it; the raw side has its rows ready in memory. Each side runs `rounds` times per batch size, alternating,
 * each into a fresh table; the best run counts.
 */
export async function projection(config: BenchConfig): Promise<void> {
  const logDb = await createFreshDatabase(config.databaseUrl, "projection");
  const modelDb = await createFreshDatabase(config.databaseUrl, "projection_model");
  try {
    const server = await startBenchServer(config, logDb.url);
    const meter = new CpuMeter(config.databaseUrl, [logDb.name, modelDb.name], server.pid);
    const sql = postgres(modelDb.url, { max: 4, fetch_types: false, onnotice: () => {} });
    try {
      progress(`projection: preloading ${config.projectionEvents} events`);
      await preloadLog(server.url, config.projectionEvents, "projection");
      const log = await readLog(server.url);
      const rows = log.map(depositRow);
      const lastId = log.at(-1)!.id;
      const results: Array<{ batchSize: number; projected: ProjectionTimed[]; raw: Timed[] }> = [];
      let table = 0;
      for (const batchSize of config.projectionBatches) {
        const projected: ProjectionTimed[] = [];
        const raw: Timed[] = [];
        for (let round = 0; round < rounds; round++) {
          progress(`projection: batches of ${batchSize}, round ${round + 1}, raw INSERTs`);
          raw.push(await timedRaw(meter, sql, `raw_${++table}`, rows, batchSize));
          progress(`projection: batches of ${batchSize}, round ${round + 1}, project()`);
          projected.push(
            await timedProjection(meter, server.url, sql, `projected_${++table}`, batchSize, lastId, rows.length),
          );
        }
        results.push({ batchSize, projected, raw });
      }
      printTable(
        `7. Projection: project() into a simple table, ${count(rows.length)} entries`,
        [
          { title: "entries per batch" },
          { title: "project() entries/s (best)" },
          { title: "all runs" },
          { title: "CPU% cli/srv/pg" },
          { title: "mean batch" },
          { title: "start-up ms" },
          { title: "raw INSERT rows/s (best)" },
          { title: "all runs" },
          { title: "CPU% cli/srv/pg" },
          { title: "project() ÷ raw" },
          { title: "target", align: "left" },
        ],
        results.map(({ batchSize, projected, raw }) => {
          const p = bestOf(projected);
          const r = bestOf(raw);
          return [
            count(batchSize),
            count(p.entriesPerSecond),
            projected.map((t) => count(t.entriesPerSecond)).join(", "),
            formatCpu(p.cpu),
            count(p.meanBatch),
            count(p.startupMs),
            count(r.entriesPerSecond),
            raw.map((t) => count(t.entriesPerSecond)).join(", "),
            formatCpu(r.cpu),
            ratio(p.entriesPerSecond, r.entriesPerSecond),
            target(`≥ ${goal}× raw`, p.entriesPerSecond >= goal * r.entriesPerSecond),
          ];
        }),
        [
          describeConfig(config),
          "table: deposits (log_id bigint primary key, originator text, version bigint, amount double precision, reference text); each side writes a fresh one",
          'project(): timed from when it holds the projection (lock taken, eskit_projections and its table made: "start-up ms") until its position is the last entry; per batch: BEGIN, the position row locked and checked and the position moved (one round trip), one INSERT of the batch\'s rows, COMMIT, the next batch\'s BEGIN and lock sent while this one commits; entries read through LogsPoll (gRPC) ahead of the batch being applied, payloads parsed; batches gather entries across LogsPoll messages (256 KiB, about 800 of these entries) and wait for the entries on their way while catching up, so "mean batch" is about the batch size',
          "raw: postgres.js on the same database, the same rows (made beforehand from the same log), per batch BEGIN, one INSERT, COMMIT, one batch after the other",
        ],
      );
    } finally {
      await sql.end({ timeout: 5 });
      await meter.close();
      await server.stop();
    }
  } finally {
    await logDb.drop();
    await modelDb.drop();
  }
}

const bestOf = <T extends Timed>(runs: T[]) => runs.reduce((a, b) => (b.entriesPerSecond > a.entriesPerSecond ? b : a));

/** The whole log, paged through the Event Store (outside the timed windows). */
async function readLog(url: string): Promise<AppLogEntry[]> {
  const connection = connectGrpc(url);
  const entries: AppLogEntry[] = [];
  try {
    for await (const page of connection.client.pageLogs({ size: 1000 })) entries.push(...page.entries);
  } finally {
    connection.close();
  }
  return entries;
}

/** The row of one entry: what the handler computes inside the projection, and the raw side beforehand. */
function depositRow(entry: AppLogEntry): DepositRow {
  const event = entry.event!;
  const payload = JSON.parse(event.payload) as { amount: number; reference: string };
  return {
    log_id: String(entry.id),
    originator: event.originator!.id,
    version: String(event.originator!.version),
    amount: payload.amount,
    reference: payload.reference,
  };
}

async function createDeposits(sql: ISql, table: string): Promise<void> {
  await sql`
    create table if not exists ${sql(table)} (
      log_id bigint primary key, originator text not null, version bigint not null,
      amount double precision not null, reference text not null
    )`;
}

async function insertDeposits(sql: ISql, table: string, rows: readonly DepositRow[]): Promise<void> {
  await sql`insert into ${sql(table)} ${sql(rows, "log_id", "originator", "version", "amount", "reference")}`;
}

async function timedRaw(
  meter: CpuMeter,
  sql: Sql,
  table: string,
  rows: readonly DepositRow[],
  batchSize: number,
): Promise<Timed> {
  await createDeposits(sql, table);
  await meter.start();
  const t0 = performance.now();
  for (let i = 0; i < rows.length; i += batchSize) {
    const batch = rows.slice(i, i + batchSize);
    await sql.begin((tx) => insertDeposits(tx, table, batch));
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = await meter.stop();
  await expectRows(sql, table, rows.length);
  return { entriesPerSecond: rows.length / seconds, cpu };
}

async function timedProjection(
  meter: CpuMeter,
  url: string,
  sql: Sql,
  table: string,
  batchSize: number,
  lastId: bigint,
  entries: number,
): Promise<ProjectionTimed> {
  const transport = createNodeTransport({ baseUrl: url, protocol: "grpc" });
  const t0 = performance.now();
  const running = project({
    transport,
    database: sql,
    name: table,
    batchSize,
    setup: (tx, context) => createDeposits(tx, context.table(table)),
    handle: (entries, tx, context) => insertDeposits(tx, context.table(table), entries.map(depositRow)),
  });
  const until = async (done: () => boolean) => {
    while (!done()) {
      if (running.status().state === "failed") await running.done;
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  };
  try {
    // The clock starts once it holds the projection and made its table, as the raw side's table and connection are
    // ready before its clock starts; the start-up is reported apart.
    await until(() => running.status().state === "running");
    const startupMs = performance.now() - t0;
    await meter.start();
    const t1 = performance.now();
    const before = running.status().applied;
    await until(() => running.status().position >= lastId);
    const seconds = (performance.now() - t1) / 1000;
    const cpu = await meter.stop();
    const { batches } = running.status();
    const summary = await running.stop();
    if (summary.applied !== entries) throw new Error(`project() applied ${summary.applied} entries, not ${entries}`);
    await expectRows(sql, table, entries);
    return { entriesPerSecond: (entries - before) / seconds, cpu, startupMs, meanBatch: entries / batches };
  } finally {
    await running.stop().catch(() => {});
    transport.close();
  }
}

/** Every row must be there: a benchmark that lost rows measured nothing. */
async function expectRows(sql: Sql, table: string, n: number): Promise<void> {
  const [row] = await sql<Array<{ n: string }>>`select count(*)::text as n from ${sql(table)}`;
  if (Number(row?.n) !== n) throw new Error(`${table} holds ${row?.n} rows, not ${n}`);
}

if (isMain(import.meta.url)) await projection(loadBenchConfig());
