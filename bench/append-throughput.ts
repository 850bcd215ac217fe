import postgres, { type Sql } from "postgres";
import { eventsPerCommit, logHead } from "./lib/commit-stats.js";
import { runClosedLoop, type LoopResult } from "./lib/closed-loop.js";
import { type BenchConfig, describeConfig, loadBenchConfig } from "./lib/config.js";
import { type CpuShare, CpuMeter, formatCpu } from "./lib/cpu-meter.js";
import { connectGrpc } from "./lib/eskit-client.js";
import { LeanGrpcAppender } from "./lib/lean-grpc.js";
import { startBenchServer } from "./lib/event-store-server.js";
import { applyMigrations, createFreshDatabase } from "./lib/fresh-database.js";
import { isMain } from "./lib/is-main.js";
import { rawAppend } from "./lib/raw-append.js";
import { OriginatorSequence } from "./lib/sample-events.js";
import type { NewEvent } from "@eskit/client/new-event.js";
import { count, ms, ratio, summarize, target } from "./lib/stats.js";
import { printTable, progress } from "./lib/table.js";

interface Cell {
  readonly eventsPerRequest: number;
  readonly concurrency: number;
  /** The target this cell is judged by, if any. */
  readonly check?: (eskit: LoopResult<CpuShare>, raw: LoopResult<CpuShare>) => string;
}

const cells: readonly Cell[] = [
  { eventsPerRequest: 1, concurrency: 1 },
  { eventsPerRequest: 1, concurrency: 16 },
  {
    eventsPerRequest: 1,
    concurrency: 64,
    check: (e, r) => target("≥ 1.00× raw", e.eventsPerSecond >= r.eventsPerSecond),
  },
  { eventsPerRequest: 100, concurrency: 4, check: (e) => target("≥ 50,000 ev/s", e.eventsPerSecond >= 50_000) },
  { eventsPerRequest: 100, concurrency: 16, check: (e) => target("≥ 50,000 ev/s", e.eventsPerSecond >= 50_000) },
];

/**
 * Benchmark 1: Append throughput over gRPC against the same rows written by postgres.js directly. Each cell runs
 * ESKIT, then the raw baseline, for the same time at the same concurrency, each on its own fresh database.
 */
export async function appendThroughput(config: BenchConfig): Promise<void> {
  const eskitDb = await createFreshDatabase(config.databaseUrl, "append");
  const rawDb = await createFreshDatabase(config.databaseUrl, "append_raw");
  const eskitSql = postgres(eskitDb.url, { max: 1, onnotice: () => {} });
  const rawSql = postgres(rawDb.url, { max: 1, onnotice: () => {} });
  try {
    await applyMigrations(rawDb.url);
    const server = await startBenchServer(config, eskitDb.url);
    const meter = new CpuMeter(config.databaseUrl, [eskitDb.name, rawDb.name], server.pid);
    const rows: string[][] = [];
    try {
      for (const [index, cell] of cells.entries()) {
        const label = `${cell.eventsPerRequest}-event × c${cell.concurrency}`;
        progress(`append: ${label} ESKIT`);
        const eskitHead = await logHead(eskitSql);
        const eskit = await measureEskit(config, server.url, cell, `c${index}`, meter);
        const eskitBatch = await eventsPerCommit(eskitSql, eskitHead);
        progress(`append: ${label} ESKIT through @eskit/client`);
        const viaClient = await measureEskitViaClient(config, server.url, cell, `c${index}`, meter);
        progress(`append: ${label} raw`);
        const raw = await measureRaw(config, rawDb.url, cell, `c${index}`, meter);
        const latency = summarize(eskit.latencies);
        rows.push([
          `${cell.eventsPerRequest}`,
          `${cell.concurrency}`,
          count(eskit.eventsPerSecond),
          count(raw.eventsPerSecond),
          ratio(eskit.eventsPerSecond, raw.eventsPerSecond),
          `${ms(latency.p50)} / ${ms(latency.p99)}`,
          eskitBatch.toFixed(1),
          formatCpu(eskit.window),
          formatCpu(raw.window),
          cell.check?.(eskit, raw) ?? "",
          `${count(viaClient.eventsPerSecond)} (${formatCpu(viaClient.window)})`,
        ]);
      }
    } finally {
      await meter.close();
      await server.stop();
    }
    printTable(
      "1. Append throughput (gRPC, HTTP/2) vs raw postgres.js",
      [
        { title: "ev/req" },
        { title: "conc" },
        { title: "ESKIT ev/s" },
        { title: "raw ev/s" },
        { title: "ESKIT/raw" },
        { title: "ESKIT p50/p99 ms" },
        { title: "ESKIT ev/commit" },
        { title: "ESKIT CPU% cli/srv/pg" },
        { title: "raw CPU% cli/-/pg" },
        { title: "target", align: "left" },
        { title: "ESKIT ev/s via @eskit/client (CPU%)" },
      ],
      rows,
      [
        describeConfig(config),
        "ESKIT = a lean gRPC load generator (bench/lib/lean-grpc.ts, one HTTP/2 connection, like ghz); last column: the same load through @eskit/client (connect-es), whose per-call CPU competes with the server on 2 cores",
        `raw = one transaction per request: INSERT events … RETURNING seq; INSERT app_log (advisory-lock trigger); pool min(conc, ${config.rawPoolMax})`,
        "CPU% = share of one core during the measured window (client = this process, srv = event store process, pg = backends of the bench databases + WAL writer/bgwriter/checkpointer)",
      ],
    );
  } finally {
    await eskitSql.end();
    await rawSql.end();
    await eskitDb.drop();
    await rawDb.drop();
  }
}

/** A way to append: one batch of events → how many were written; `close` releases its connections. */
interface Appender {
  append(events: NewEvent[]): Promise<number>;
  close(): void | Promise<void>;
}

const measureEskit = (config: BenchConfig, url: string, cell: Cell, prefix: string, meter: CpuMeter) =>
  measure(config, cell, `eskit-${prefix}`, meter, new LeanGrpcAppender(url));

function measureEskitViaClient(config: BenchConfig, url: string, cell: Cell, prefix: string, meter: CpuMeter) {
  const connection = connectGrpc(url);
  return measure(config, cell, `client-${prefix}`, meter, {
    append: async (events) => (await connection.client.appendEvents(events)).length,
    close: () => connection.close(),
  });
}

function measureRaw(config: BenchConfig, url: string, cell: Cell, prefix: string, meter: CpuMeter) {
  const sql: Sql = postgres(url, { max: Math.min(cell.concurrency, config.rawPoolMax), onnotice: () => {} });
  return measure(config, cell, `raw-${prefix}`, meter, {
    append: (events) => rawAppend(sql, events),
    close: () => sql.end(),
  });
}

/** One closed-loop run of a cell: each worker appends to its own originator, consecutive versions. */
async function measure(config: BenchConfig, cell: Cell, prefix: string, meter: CpuMeter, appender: Appender) {
  const sequence = new OriginatorSequence(prefix);
  try {
    return await runClosedLoop({
      concurrency: cell.concurrency,
      warmupSeconds: config.warmupSeconds,
      seconds: config.seconds,
      op: (worker) => appender.append(sequence.next(worker, cell.eventsPerRequest)),
      probe: meter,
    });
  } finally {
    await appender.close();
  }
}

if (isMain(import.meta.url)) await appendThroughput(loadBenchConfig());
