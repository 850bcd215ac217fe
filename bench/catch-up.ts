import { create } from "@bufbuild/protobuf";
import { LogsPollRequestSchema } from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
import postgres, { type Sql } from "postgres";
import { type BenchConfig, describeConfig, loadBenchConfig } from "./lib/config.js";
import { type CpuShare, CpuMeter, formatCpu } from "./lib/cpu-meter.js";
import { connectGrpc } from "./lib/eskit-client.js";
import { jsonLogsPollCount } from "./lib/json-logs-poll.js";
import { leanLogsPollCount } from "./lib/lean-grpc.js";
import { startBenchServer } from "./lib/event-store-server.js";
import { createFreshDatabase } from "./lib/fresh-database.js";
import { isMain } from "./lib/is-main.js";
import { preloadLog } from "./lib/preload-log.js";
import { count, ratio, target } from "./lib/stats.js";
import { printTable, progress } from "./lib/table.js";

const rounds = 2;
const pageSize = 1000;

interface Timed {
  readonly eventsPerSecond: number;
  readonly cpu: CpuShare;
}

/**
 * Benchmark 3: a new LogsPoll reader catching up from id 0 over a preloaded log, against postgres.js paging the
 * same rows (the events table in log order, keyset pages of 1000) from the same database. Each side runs `rounds`
 * times, alternating, and the best run counts (the first run of either may pay for cold caches). Everything runs
 * twice: right after the preload, before PostgreSQL has statistics on the new rows, and after ANALYZE.
 */
export async function catchUp(config: BenchConfig): Promise<void> {
  const db = await createFreshDatabase(config.databaseUrl, "catchup");
  try {
    const server = await startBenchServer(config, db.url);
    const meter = new CpuMeter(config.databaseUrl, [db.name], server.pid);
    try {
      progress(`catch-up: preloading ${config.catchUpEvents} events`);
      await preloadLog(server.url, config.catchUpEvents, "catchup");
      const fresh = await measureRounds(config, server.url, db.url, meter);
      progress("catch-up: ANALYZE, then again");
      await analyze(db.url);
      const analyzed = await measureRounds(config, server.url, db.url, meter);
      const row = (name: string, runs: Timed[], raw: Timed, goal = 100_000) => {
        const best = bestOf(runs);
        return [
          name,
          count(best.eventsPerSecond),
          runs.map((r) => count(r.eventsPerSecond)).join(", "),
          formatCpu(best.cpu),
          ratio(best.eventsPerSecond, raw.eventsPerSecond),
          target(`≥ ${count(goal)} ev/s`, best.eventsPerSecond >= goal),
        ];
      };
      const rawRow = (name: string, runs: Timed[]) => {
        const best = bestOf(runs);
        return [
          name,
          count(best.eventsPerSecond),
          runs.map((r) => count(r.eventsPerSecond)).join(", "),
          formatCpu(best.cpu),
          "1.00×",
          "",
        ];
      };
      printTable(
        `3. Catch-up: one reader from id 0 over ${count(config.catchUpEvents)} events`,
        [
          { title: "reader", align: "left" },
          { title: "ev/s (best)" },
          { title: "all runs ev/s" },
          { title: "CPU% cli/srv/pg" },
          { title: "vs raw" },
          { title: "target", align: "left" },
        ],
        [
          row("ESKIT LogsPoll, tables not yet analyzed", fresh.eskit, bestOf(fresh.raw)),
          row("  same, read through @eskit/client", fresh.viaClient, bestOf(fresh.raw), 200_000),
          row("  same, Connect JSON over HTTP/1.1", fresh.json, bestOf(fresh.raw)),
          rawRow("raw postgres.js, not yet analyzed", fresh.raw),
          row("ESKIT LogsPoll, after ANALYZE", analyzed.eskit, bestOf(analyzed.raw)),
          row("  same, read through @eskit/client", analyzed.viaClient, bestOf(analyzed.raw), 200_000),
          row("  same, Connect JSON over HTTP/1.1", analyzed.json, bestOf(analyzed.raw)),
          rawRow("raw postgres.js, after ANALYZE", analyzed.raw),
        ],
        [
          describeConfig(config),
          'ESKIT = a lean gRPC reader (bench/lib/lean-grpc.ts: walks frames and entries, checks ids increase, builds no messages); "through @eskit/client" decodes every message into full protobuf-es messages, as an application receives them (gRPC, binary; the client decodes LogsPoll by hand, see client/src/logs-poll-decoder.ts); "Connect JSON" = streaming JSON over HTTP/1.1 as a browser or curl reads it, each message JSON.parse-d (bench/lib/json-logs-poll.ts)',
          `raw = select log_id and every events column from events where log_id > $last order by log_id limit ${pageSize}, until all rows are read`,
          '"not yet analyzed": right after the preload, before autovacuum has gathered statistics (as after a bulk import)',
        ],
      );
    } finally {
      await meter.close();
      await server.stop();
    }
  } finally {
    await db.drop();
  }
}

const bestOf = (runs: Timed[]) => runs.reduce((a, b) => (b.eventsPerSecond > a.eventsPerSecond ? b : a));

/** `rounds` alternating runs of the raw reader and the ESKIT reader. */
async function measureRounds(config: BenchConfig, url: string, dbUrl: string, meter: CpuMeter) {
  const eskit: Timed[] = [];
  const viaClient: Timed[] = [];
  const json: Timed[] = [];
  const raw: Timed[] = [];
  for (let round = 0; round < rounds; round++) {
    progress(`catch-up: round ${round + 1} raw`);
    const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
    try {
      await sql`select 1`; // connected before the clock starts, and still connected when the CPU is read
      raw.push(await timed(meter, config.catchUpEvents, () => rawPaging(sql, config.catchUpEvents)));
    } finally {
      await sql.end();
    }
    progress(`catch-up: round ${round + 1} ESKIT`);
    eskit.push(await timed(meter, config.catchUpEvents, () => leanLogsPollCount(url, config.catchUpEvents)));
    progress(`catch-up: round ${round + 1} ESKIT through @eskit/client`);
    viaClient.push(await timed(meter, config.catchUpEvents, () => logsPollFromZero(url, config.catchUpEvents)));
    progress(`catch-up: round ${round + 1} ESKIT over Connect JSON, HTTP/1.1`);
    json.push(await timed(meter, config.catchUpEvents, () => jsonLogsPollCount(url, config.catchUpEvents)));
  }
  return { eskit, viaClient, json, raw };
}

async function analyze(dbUrl: string): Promise<void> {
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  try {
    await sql`analyze`;
  } finally {
    await sql.end();
  }
}

async function timed(meter: CpuMeter, n: number, read: () => Promise<number>): Promise<Timed> {
  await meter.start();
  const t0 = performance.now();
  const got = await read();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = await meter.stop();
  if (got < n) throw new Error(`read ${got} of ${n} entries`);
  return { eventsPerSecond: got / seconds, cpu };
}

/** Opens LogsPoll at id 0 on a new connection and reads until `n` entries arrived. */
async function logsPollFromZero(url: string, n: number): Promise<number> {
  const connection = connectGrpc(url);
  const stop = new AbortController();
  let received = 0;
  try {
    for await (const response of connection.client.logsPoll(create(LogsPollRequestSchema, { fromId: 0n }), {
      signal: stop.signal,
    })) {
      received += response.entries.length;
      if (received >= n) break;
    }
  } finally {
    stop.abort();
    connection.close();
  }
  return received;
}

/** Reads the whole log with postgres.js, 1000 rows per query. */
async function rawPaging(sql: Sql, n: number): Promise<number> {
  let received = 0;
  let last = "0";
  while (received < n) {
    const rows = await sql<{ id: string }[]>`
      select e.log_id as id, e.originator_id, e.version, e.event_type, e.entity_type, e.payload, e.metadata,
             e.occurred_on_seconds, e.occurred_on_nanos, e.event_id
      from events e where e.log_id > ${last} order by e.log_id limit ${pageSize}`;
    if (rows.length === 0) break;
    received += rows.length;
    last = rows.at(-1)!.id;
  }
  return received;
}

if (isMain(import.meta.url)) await catchUp(loadBenchConfig());
