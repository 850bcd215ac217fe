import { create } from "@bufbuild/protobuf";
import { LogsRequestSchema } from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
import { type BenchConfig, describeConfig, loadBenchConfig } from "./lib/config.js";
import { CpuMeter, formatCpu } from "./lib/cpu-meter.js";
import { type BenchClient, connectGrpc } from "./lib/eskit-client.js";
import { startBenchServer } from "./lib/event-store-server.js";
import { LeanGrpcAppender, leanLogsPollFollow } from "./lib/lean-grpc.js";
import { createFreshDatabase } from "./lib/fresh-database.js";
import { isMain } from "./lib/is-main.js";
import { OriginatorSequence } from "./lib/sample-events.js";
import { appendAtRate } from "./lib/append-at-rate.js";
import { followStream } from "./lib/follow-stream.js";
import { count, ms, ratio, summarize, target } from "./lib/stats.js";
import { delaysAfter, latencyColumns, latencyRow, waitUntil } from "./lib/latency-table.js";
import { printTable, progress } from "./lib/table.js";

/** How the original ESKIT delivered new entries: poll, then sleep this long. */
const legacyPollMs = 100;

/**
 * Benchmark 2: how long after Append answers does the entry reach a LogsPoll stream opened at the head? Events are
 * appended open-loop at a steady rate (not waiting for each other); beside the stream, a client polls the Logs RPC
 * and sleeps 100 ms between polls, as the original ESKIT did server-side: the baseline measured in the same run.
 */
export async function logsPollLatency(config: BenchConfig): Promise<void> {
  const db = await createFreshDatabase(config.databaseUrl, "latency");
  try {
    const server = await startBenchServer(config, db.url);
    const writer = connectGrpc(server.url);
    const streamReader = connectGrpc(server.url);
    const pollReader = connectGrpc(server.url);
    const stop = new AbortController();
    try {
      const sequence = new OriginatorSequence("latency");
      // Warm the connections and the store's statements; the readers start after these entries.
      let head = 0n;
      for (let i = 0; i < 50; i++) [head = head] = await writer.client.appendEvents(sequence.next(i % 4, 1));
      const streamArrivals = new Map<bigint, number>();
      const pollArrivals = new Map<bigint, number>();
      const streaming = followStream(streamReader, head + 1n, streamArrivals, stop.signal);
      const polling = followPolling(pollReader, head + 1n, pollArrivals, stop.signal);
      await new Promise((resolve) => setTimeout(resolve, 200));

      progress(`latency: ${config.latencyEvents} appends at ${config.latencyRate}/s`);
      const { answered, appendLatency, seconds } = await appendAtRate(
        (events) => writer.client.appendEvents(events).then(([id]) => id!),
        sequence,
        config.latencyEvents,
        config.latencyRate,
      );
      await waitUntil(() => [...answered.keys()].every((id) => streamArrivals.has(id) && pollArrivals.has(id)), 5000);
      stop.abort();
      await Promise.allSettled([streaming, polling]);
      const delays = (arrivals: ReadonlyMap<bigint, number>) => delaysAfter(answered, arrivals);
      const stream = summarize(delays(streamArrivals));
      const poll = summarize(delays(pollArrivals));
      printTable(
        "2. LogsPoll latency: entry on the stream − Append response (ms)",
        latencyColumns,
        [
          latencyRow("ESKIT LogsPoll stream", stream, target("p99 ≤ 20 ms", stream.p99 <= 20)),
          latencyRow(
            `Logs RPC poll + ${legacyPollMs} ms sleep (measured)`,
            poll,
            `stream p99 is ${ratio(stream.p99, poll.p99)} of this`,
          ),
          ["original ESKIT (100 ms sleep; reference)", "-", "-", "≈ 50", "≈ 90", "≈ 99", "≈ 100", ""],
        ],
        [
          describeConfig(config),
          `${config.latencyEvents} single-event appends at ${config.latencyRate}/s, open loop (achieved ${count(config.latencyEvents / seconds)}/s);` +
            ` Append's own latency p50 ${ms(appendLatency.p50)} ms, p99 ${ms(appendLatency.p99)} ms`,
          "negative = the entry reached the stream before Append's response reached the client",
          `missing: stream ${config.latencyEvents - stream.n}, poll ${config.latencyEvents - poll.n}`,
        ],
      );
    } finally {
      stop.abort();
      writer.close();
      streamReader.close();
      pollReader.close();
      await server.stop();
    }
  } finally {
    await db.drop();
  }
  await fanOut(config);
}

/**
 * The fan-out cell: `fanOutStreams` LogsPoll streams open at the head (lean readers, one HTTP/2 connection each)
 * while single events are appended open-loop at `fanOutRate` per second by a lean gRPC writer; the latency of every
 * entry on every stream, from its Append's answer. On its own fresh database and store.
 */
async function fanOut(config: BenchConfig): Promise<void> {
  const db = await createFreshDatabase(config.databaseUrl, "fanout");
  try {
    const server = await startBenchServer(config, db.url);
    const writer = new LeanGrpcAppender(server.url);
    const meter = new CpuMeter(config.databaseUrl, [db.name], server.pid);
    const stop = new AbortController();
    try {
      const sequence = new OriginatorSequence("fanout");
      let head = 0n;
      for (let i = 0; i < 50; i++) [head = head] = await writer.appendIds(sequence.next(i % 4, 1));
      const base = head + 1n;
      const n = config.fanOutEvents;
      // Arrival time of each entry on each stream, by its id's offset from the first (NaN until it arrives).
      const arrivals = Array.from({ length: config.fanOutStreams }, () => new Float64Array(n + 1024).fill(NaN));
      const received = new Array<number>(config.fanOutStreams).fill(0);
      const streams = arrivals.map((times, s) =>
        leanLogsPollFollow(
          server.url,
          base,
          (id) => {
            const at = Number(id - base);
            if (at < times.length) times[at] = performance.now();
            received[s]!++;
          },
          stop.signal,
        ),
      );
      await new Promise((resolve) => setTimeout(resolve, 1000));
      progress(`latency: ${config.fanOutStreams} streams, ${n} appends at ${config.fanOutRate}/s`);
      await meter.start();
      const started = performance.now();
      const { answered, appendLatency, seconds } = await appendAtRate(
        (events) => writer.appendIds(events).then(([id]) => id!),
        sequence,
        n,
        config.fanOutRate,
      );
      await waitUntil(() => received.every((r) => r >= n), 10_000);
      const cpu = await meter.stop();
      const wall = (performance.now() - started) / 1000;
      stop.abort();
      await Promise.allSettled(streams);
      const delays: number[] = [];
      let missing = 0;
      for (const [id, at] of answered) {
        const offset = Number(id - base);
        for (const times of arrivals) {
          const arrived = times[offset];
          if (arrived === undefined || Number.isNaN(arrived)) missing++;
          else delays.push(arrived - at);
        }
      }
      const s = summarize(delays);
      printTable(
        `2b. LogsPoll fan-out: ${config.fanOutStreams} open streams, appends at ${config.fanOutRate}/s (ms from Append's answer)`,
        [
          { title: "streams" },
          { title: "appends/s" },
          { title: "deliveries" },
          { title: "p50" },
          { title: "p90" },
          { title: "p99" },
          { title: "max" },
          { title: "CPU% cli/srv/pg" },
          { title: "store CPU µs per append" },
          { title: "target", align: "left" },
        ],
        [
          [
            count(config.fanOutStreams),
            count(n / seconds),
            count(s.n),
            ms(s.p50),
            ms(s.p90),
            ms(s.p99),
            ms(s.max),
            formatCpu(cpu),
            count(((cpu.server / 100) * wall * 1e6) / n),
            target("p99 ≤ 5 ms", s.p99 <= 5),
          ],
        ],
        [
          describeConfig(config),
          `lean gRPC writer and readers (bench/lib/lean-grpc.ts) in this process; Append's own latency p50 ${ms(appendLatency.p50)} ms, p99 ${ms(appendLatency.p99)} ms; missing deliveries: ${missing}`,
        ],
      );
    } finally {
      stop.abort();
      writer.close();
      await meter.close();
      await server.stop();
    }
  } finally {
    await db.drop();
  }
}

async function followPolling(
  reader: BenchClient,
  fromId: bigint,
  arrivals: Map<bigint, number>,
  signal: AbortSignal,
): Promise<void> {
  let next = fromId;
  while (!signal.aborted) {
    const page = await reader.client.logs(create(LogsRequestSchema, { fromId: next, size: 1000 }), { signal });
    const now = performance.now();
    for (const entry of page.entries) arrivals.set(entry.id, now);
    next = page.nextFromId;
    if (page.entries.length < 1000) await new Promise((resolve) => setTimeout(resolve, legacyPollMs));
  }
}

if (isMain(import.meta.url)) await logsPollLatency(loadBenchConfig());
