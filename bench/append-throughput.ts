import postgres, { type Sql } from "postgres";
import { eventsPerCommit, logHead } from "./lib/commit-stats.js";
import { runClosedLoop, type LoopResult } from "./lib/closed-loop.js";
import { type BenchConfig, describeConfig, loadBenchConfig } from "./lib/config.js";
import { type CpuShare, CpuMeter, formatCpu } from "./lib/cpu-meter.js";
import { connectGrpc } from "./lib/eskit-client.js";
import { LeanGrpcAppender } from "./lib/lean-grpc.js";
import { LeanJsonAppender } from "./lib/lean-json.js";
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
  /** The targets this cell is judged by: gRPC and JSON results, the raw baseline, server µs per request. */
  readonly check?: (grpc: LoopResult<CpuShare>, json: LoopResult<CpuShare>, raw: LoopResult<CpuShare>) => string;
}

const atLeast =
  (label: string, factor: number) => (g: LoopResult<CpuShare>, j: LoopResult<CpuShare>, r: LoopResult<CpuShare>) =>
    target(
      `gRPC and JSON ≥ ${factor.toFixed(1)}× raw${label}`,
      Math.min(g.eventsPerSecond, j.eventsPerSecond) >= factor * r.eventsPerSecond,
    );

const cells: readonly Cell[] = [
  {
    eventsPerRequest: 1,
    concurrency: 1,
    check: (g, j, r) => `${atLeast("", 0.5)(g, j, r)}; ${target("p50 ≤ 1 ms", Math.max(p50(g), p50(j)) <= 1)}`,
  },
  { eventsPerRequest: 1, concurrency: 16, check: atLeast("", 1.0) },
  {
    eventsPerRequest: 1,
    concurrency: 64,
    check: (g, j, r) => `${atLeast("", 1.5)(g, j, r)}; ${target("server ≤ 150 µs/append", serverMicros(g) <= 150)}`,
  },
  { eventsPerRequest: 100, concurrency: 4, check: (g) => target("≥ 50,000 ev/s", g.eventsPerSecond >= 50_000) },
  { eventsPerRequest: 100, concurrency: 16, check: (g) => target("≥ 50,000 ev/s", g.eventsPerSecond >= 50_000) },
];

const p50 = (result: LoopResult<CpuShare>) => summarize(result.latencies).p50;

/** The store's CPU per request in the window, in µs (its share of a core over the requests per second). */
const serverMicros = (result: LoopResult<CpuShare>) =>
  ((result.window.server / 100) * 1e6) / (result.requests / result.seconds);

/**
 * Benchmark 1: Append throughput over gRPC (HTTP/2) and over Connect JSON (HTTP/1.1, one connection per client, as
 * curl makes) against the same rows written by postgres.js directly. Each cell runs ESKIT, then the raw baseline,
 * for the same time at the same concurrency, each on its own fresh database. Then the Drizzle transaction path
 * (ESKIT_APPEND_PATH=drizzle-transaction) against the default one, in turns.
 */
export async function appendThroughput(config: BenchConfig): Promise<void> {
  const eskitDb = await createFreshDatabase(config.databaseUrl, "append");
  const rawDb = await createFreshDatabase(config.databaseUrl, "append_raw");
  const drizzleDb = await createFreshDatabase(config.databaseUrl, "append_drizzle");
  const statementDb = await createFreshDatabase(config.databaseUrl, "append_statement");
  const eskitSql = postgres(eskitDb.url, { max: 1, onnotice: () => {} });
  const rawSql = postgres(rawDb.url, { max: 1, onnotice: () => {} });
  try {
    await applyMigrations(rawDb.url);
    const firstServer = await startBenchServer(config, eskitDb.url);
    const meter = new CpuMeter(config.databaseUrl, [eskitDb.name, rawDb.name], firstServer.pid);
    const rows: string[][] = [];
    const drizzleRows: string[][] = [];
    try {
      for (const [index, cell] of cells.entries()) {
        if (!config.appendCells(cell)) continue;
        const label = `${cell.eventsPerRequest}-event × c${cell.concurrency}`;
        progress(`append: ${label} ESKIT gRPC`);
        const eskitHead = await logHead(eskitSql);
        const grpc = await measure(config, cell, `grpc-c${index}`, meter, new LeanGrpcAppender(firstServer.url));
        const eskitBatch = await eventsPerCommit(eskitSql, eskitHead);
        progress(`append: ${label} ESKIT Connect JSON, HTTP/1.1`);
        const json = await measure(config, cell, `json-c${index}`, meter, jsonAppenders(firstServer.url));
        progress(`append: ${label} ESKIT through @eskit/client`);
        const viaClient = await measureEskitViaClient(config, firstServer.url, cell, `c${index}`, meter);
        progress(`append: ${label} raw`);
        const raw = await measureRaw(config, rawDb.url, cell, `c${index}`, meter);
        rows.push([
          `${cell.eventsPerRequest}`,
          `${cell.concurrency}`,
          count(grpc.eventsPerSecond),
          count(json.eventsPerSecond),
          count(raw.eventsPerSecond),
          ratio(grpc.eventsPerSecond, raw.eventsPerSecond),
          ratio(json.eventsPerSecond, raw.eventsPerSecond),
          `${ms(p50(grpc))} / ${ms(p50(json))} / ${ms(p50(raw))}`,
          `${Math.round(serverMicros(grpc))} / ${Math.round(serverMicros(json))}`,
          eskitBatch.toFixed(1),
          `${formatCpu(grpc.window)} · ${formatCpu(raw.window)}`,
          cell.check?.(grpc, json, raw) ?? "",
          `${count(viaClient.eventsPerSecond)} (${formatCpu(viaClient.window)})`,
        ]);
      }
    } finally {
      await meter.close();
      await firstServer.stop();
    }
    // Both stores of the comparison start on fresh databases, so neither carries the rows of the cells above.
    const server = await startBenchServer(config, statementDb.url);
    const drizzleServer = await startBenchServer(config, drizzleDb.url, { ESKIT_APPEND_PATH: "drizzle-transaction" });
    const drizzleMeter = new CpuMeter(config.databaseUrl, [statementDb.name, drizzleDb.name], drizzleServer.pid);
    const statementMeter = new CpuMeter(config.databaseUrl, [statementDb.name, drizzleDb.name], server.pid);
    try {
      for (const concurrency of [16, 64]) {
        const cell = { eventsPerRequest: 1, concurrency };
        if (!config.appendCells(cell)) continue;
        progress(`append: Drizzle transaction vs statement, c${concurrency}`);
        const statement = await measure(
          config,
          cell,
          `st-c${concurrency}`,
          statementMeter,
          new LeanGrpcAppender(server.url),
        );
        const drizzle = await measure(
          config,
          cell,
          `dz-c${concurrency}`,
          drizzleMeter,
          new LeanGrpcAppender(drizzleServer.url),
        );
        const cost = 1 - drizzle.eventsPerSecond / statement.eventsPerSecond;
        drizzleRows.push([
          `${concurrency}`,
          count(statement.eventsPerSecond),
          count(drizzle.eventsPerSecond),
          ratio(drizzle.eventsPerSecond, statement.eventsPerSecond),
          `${ms(p50(statement))} / ${ms(p50(drizzle))}`,
          `${Math.round(serverMicros(statement))} / ${Math.round(serverMicros(drizzle))}`,
          `${formatCpu(statement.window)} · ${formatCpu(drizzle.window)}`,
          cost < 0.1
            ? "costs < 10 %: keep the Drizzle transaction"
            : `costs ${Math.round(cost * 100)} %: keep the statement`,
        ]);
      }
    } finally {
      await drizzleMeter.close();
      await statementMeter.close();
      await drizzleServer.stop();
      await server.stop();
    }
    printTable(
      "1. Append throughput: gRPC (HTTP/2) and Connect JSON (HTTP/1.1) vs raw postgres.js",
      [
        { title: "ev/req" },
        { title: "conc" },
        { title: "gRPC ev/s" },
        { title: "JSON ev/s" },
        { title: "raw ev/s" },
        { title: "gRPC/raw" },
        { title: "JSON/raw" },
        { title: "p50 ms gRPC/JSON/raw" },
        { title: "server µs/req gRPC/JSON" },
        { title: "ev/commit" },
        { title: "CPU% cli/srv/pg gRPC · raw" },
        { title: "target", align: "left" },
        { title: "ev/s via @eskit/client (CPU%)" },
      ],
      rows,
      [
        describeConfig(config),
        "gRPC = a lean gRPC load generator (bench/lib/lean-grpc.ts, one HTTP/2 connection, like ghz); JSON = Connect JSON POSTs over HTTP/1.1, one keep-alive connection per client (bench/lib/lean-json.ts, as curl); last column: the gRPC load through @eskit/client (connect-es), whose per-call CPU competes with the server on 2 cores",
        `raw = one INSERT per request into events, the store's table (its advisory-lock trigger draws the log ids), as one transaction; pool min(conc, ${config.rawPoolMax})`,
        "server µs/req = the store process's CPU time per request in the window (its CPU share over requests per second)",
        "CPU% = share of one core during the measured window (client = this process, srv = event store process, pg = backends of the bench databases + WAL writer/bgwriter/checkpointer)",
      ],
    );
    printTable(
      "1b. Append through a Drizzle transaction (ESKIT_APPEND_PATH=drizzle-transaction) vs the one checked statement (default), single-event, gRPC",
      [
        { title: "conc" },
        { title: "statement ev/s" },
        { title: "Drizzle tx ev/s" },
        { title: "Drizzle/statement" },
        { title: "p50 ms st/dz" },
        { title: "server µs/req st/dz" },
        { title: "CPU% cli/srv/pg st · dz" },
        { title: "verdict (keep Drizzle if it costs < 10 %)", align: "left" },
      ],
      drizzleRows,
      ["each pair runs back to back on the same machine; each store has its own fresh database"],
    );
  } finally {
    await eskitSql.end();
    await rawSql.end();
    await eskitDb.drop();
    await rawDb.drop();
    await drizzleDb.drop();
    await statementDb.drop();
  }
}

/** One lean JSON client per worker (each its own HTTP/1.1 connection), as `concurrency` curl-like clients. */
function jsonAppenders(url: string): Appender {
  const clients = new Map<number, LeanJsonAppender>();
  return {
    append: (events, worker) => {
      let client = clients.get(worker);
      if (client === undefined) {
        client = new LeanJsonAppender(url);
        clients.set(worker, client);
      }
      return client.append(events);
    },
    close: () => {
      for (const client of clients.values()) client.close();
    },
  };
}

/** A way to append: one batch of events → how many were written; `close` releases its connections. */
interface Appender {
  /** Appends worker `worker`'s next events. */
  append(events: NewEvent[], worker: number): Promise<number>;
  close(): void | Promise<void>;
}

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
async function measure(
  config: BenchConfig,
  cell: Pick<Cell, "eventsPerRequest" | "concurrency">,
  prefix: string,
  meter: CpuMeter,
  appender: Appender,
) {
  const sequence = new OriginatorSequence(prefix);
  try {
    return await runClosedLoop({
      concurrency: cell.concurrency,
      warmupSeconds: config.warmupSeconds,
      seconds: config.seconds,
      op: (worker) => appender.append(sequence.next(worker, cell.eventsPerRequest), worker),
      probe: meter,
    });
  } finally {
    await appender.close();
  }
}

if (isMain(import.meta.url)) await appendThroughput(loadBenchConfig());
