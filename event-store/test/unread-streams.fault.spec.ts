import { randomUUID } from "node:crypto";
import { sampleValue } from "@eskit/test-kit/exposition.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientsFor, spawnEventStore, type Clients, type SpawnedEventStore } from "./harness.js";
import { scrape } from "@eskit/test-kit/metrics.js";
import {
  openUnreadHttp1Streams,
  openUnreadHttp2Streams,
  rssBytes,
  type UnreadStreams,
} from "./support/unread-streams.js";

// Issue 10 §1: clients that open catch-up streams and never read must not make the Event Store buffer without bound.
// The store runs as its own process on a fresh PostgreSQL database; its RSS is read from /proc. PGlite is skipped:
// its WASM heap (hundreds of MiB, growing with the data) would dominate the figures this test bounds.
const databaseUrl = process.env["DATABASE_URL"];
const streams = Number(process.env["ESKIT_TEST_UNREAD_STREAMS"] ?? 1000);
const logEntries = 20_000;
const payload = JSON.stringify({ text: "x".repeat(1000) }); // about 1 KB
const MiB = 1024 * 1024;
const logsPoll = { service: "eskit.eventstore.v1.EventStoreService", method: "LogsPoll" };

describe.skipIf(databaseUrl === undefined || databaseUrl === "")("unread LogsPoll streams", () => {
  let store: SpawnedEventStore;
  let client: Clients;
  let baseline = 0;
  /** Append p99 with no stream open, in ms: what the machine gives (its PostgreSQL may be shared and busy). */
  let idleP99 = 0;

  beforeAll(async () => {
    store = await spawnEventStore({
      LOG_LEVEL: "warn",
      ESKIT_MAX_STREAMS: String(streams),
      // The streams must stay open while the test measures them: no stalled-reader cut here (it has its own test).
      ESKIT_STREAM_STALL_TIMEOUT_MS: "600000",
    });
    client = clientsFor(store.url, "grpc");
    await preload(client, logEntries);
    // Warm up what every later figure includes: the tail's ring of recent entries (filled when a live stream
    // waits at the head), compiled code, the connection pools.
    const live = new AbortController();
    const tailing = (async () => {
      for await (const _ of client.eventStore.logsPoll({ fromId: BigInt(logEntries + 1) }, { signal: live.signal }));
    })().catch(() => {});
    await appendLatencies(client, 100);
    live.abort();
    idleP99 = percentile(await appendLatencies(client, 200), 0.99);
    await tailing;
    await new Promise((resolve) => setTimeout(resolve, 2000));
    baseline = await rssBytes(store.pid);
  }, 120_000);

  afterAll(async () => {
    client?.close();
    await store?.stop();
  });

  for (const protocol of ["HTTP/1.1 (Connect JSON)", "HTTP/2 (gRPC)"] as const) {
    it(`${streams} unread catch-up streams over ${protocol} keep RSS under 1 GiB and appends fast; memory returns after they go`, async () => {
      const open = protocol.startsWith("HTTP/1.1") ? openUnreadHttp1Streams : openUnreadHttp2Streams;
      const started = await rssBytes(store.pid);
      let peak = started;
      let maxGauge = 0;
      const sampler = setInterval(() => {
        void rssBytes(store.pid).then(
          (rss) => (peak = Math.max(peak, rss)),
          () => {},
        );
        void gauge(store.url).then((g) => (maxGauge = Math.max(maxGauge, g)));
      }, 250);
      let unread: UnreadStreams | undefined;
      try {
        unread = await open(store.url, streams);
        await waitFor(async () => (await gauge(store.url)) === streams, 60_000, "every stream open");
        // Let every stream fill whatever it buffers before measuring appends and the peak.
        await new Promise((resolve) => setTimeout(resolve, 5000));
        const slowBefore = await serverSlowAppends(store.url);
        const latencies = await appendLatencies(client, 200);
        const slowOnServer = (await serverSlowAppends(store.url)) - slowBefore;
        const p99 = percentile(latencies, 0.99);
        await new Promise((resolve) => setTimeout(resolve, 1000));
        const held = await rssBytes(store.pid);
        peak = Math.max(peak, held);

        await unread.close();
        unread = undefined;
        await waitFor(async () => (await gauge(store.url)) === 0, 10_000, "the gauge back to 0");
        const closedAt = Date.now();
        let after = await rssBytes(store.pid);
        while (after > baseline * 1.2 && Date.now() - closedAt < 60_000) {
          // A little traffic, as a live server has: a process that does nothing may never collect its garbage.
          await client.eventStore.getHead({});
          await new Promise((resolve) => setTimeout(resolve, 500));
          after = await rssBytes(store.pid);
        }
        const returnedMs = Date.now() - closedAt;
        const heap = await heapFigures(store.url);
        console.info(
          `${protocol}: ${streams} unread streams; RSS baseline ${mib(baseline)}, before ${mib(started)}, peak ${mib(peak)},` +
            ` held ${mib(held)}, after ${mib(after)} (${returnedMs} ms after close); Append p99 ${p99.toFixed(1)} ms (${idleP99.toFixed(1)} ms with no stream;` +
            ` ${slowOnServer} of 200 took over 100 ms in the server);` +
            ` gauge max ${maxGauge}; after: ${heap}`,
        );
        expect(peak, "peak RSS").toBeLessThan(1024 * MiB);
        expect(maxGauge, "eskit_rpc_streams_open never above ESKIT_MAX_STREAMS").toBeLessThanOrEqual(streams);
        // The targets: appends stay fast while the streams are open (p99 under 100 ms), and RSS returns to within 20 %
        // of the start within 60 s of the clients leaving. Node 22+ gets there (V8's gc() takes options there, and the
        // server's collection after a crowd leaves gives back the young generation too; the allocator settings return
        // what was freed outside V8): asserted there. Node 20's gc() cannot shrink its young generation (32 MiB), so
        // RSS came back to 1.08-1.31x there: under 2x is asserted (the defect kept about 9x), 20 % with
        // ESKIT_FAULT_STRICT=1.
        expect(p99, "Append p99 (ms) while the streams are open").toBeLessThan(100);
        const strict = process.env["ESKIT_FAULT_STRICT"] === "1" || Number(process.versions.node.split(".")[0]) >= 22;
        expect(after, "RSS back near the start 60 s after the clients left").toBeLessThanOrEqual(
          baseline * (strict ? 1.2 : 2),
        );
      } finally {
        clearInterval(sampler);
        await unread?.close();
      }
    }, 300_000);
  }
});

async function preload(client: Clients, n: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const size = Math.min(500, n - next);
      next += size;
      const id = `load-${randomUUID()}`;
      await client.eventStore.appendEvents(
        Array.from({ length: size }, (_, i) => ({
          originatorId: id,
          version: BigInt(i + 1),
          eventType: "Load.Added",
          payload,
        })),
      );
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
}

/** `n` sequential one-event appends; each one's latency in ms. */
async function appendLatencies(client: Clients, n: number): Promise<number[]> {
  const id = `probe-${randomUUID()}`;
  const latencies: number[] = [];
  for (let i = 1; i <= n; i++) {
    const t0 = performance.now();
    await client.eventStore.appendEvents([
      { originatorId: id, version: BigInt(i), eventType: "Probe.Sent", payload: "{}" },
    ]);
    latencies.push(performance.now() - t0);
  }
  return latencies;
}

/** The open LogsPoll streams by `eskit_rpc_streams_open`; -1 when the scrape failed (a busy server may time out). */
async function gauge(url: string): Promise<number> {
  try {
    return sampleValue((await scrape(url)).samples, "eskit_rpc_streams_open", logsPoll) ?? 0;
  } catch {
    return -1;
  }
}

/** Appends the server itself timed at over 100 ms so far (from eskit_rpc_duration_seconds). */
async function serverSlowAppends(url: string): Promise<number> {
  const samples = (await scrape(url)).samples;
  const labels = { service: "eskit.eventstore.v1.EventStoreService", method: "Append" };
  const all = sampleValue(samples, "eskit_rpc_duration_seconds_count", labels) ?? 0;
  const fast = sampleValue(samples, "eskit_rpc_duration_seconds_bucket", { ...labels, le: "0.1" }) ?? 0;
  return all - fast;
}

/** The V8 heap and external memory, from the process's own metrics: where the RSS is, when it has not come back. */
async function heapFigures(url: string): Promise<string> {
  const samples = (await scrape(url)).samples;
  const figure = (name: string) => mib(sampleValue(samples, name, {}) ?? 0);
  return (
    `heap used ${figure("nodejs_heap_size_used_bytes")} of ${figure("nodejs_heap_size_total_bytes")},` +
    ` external ${figure("nodejs_external_memory_bytes")}`
  );
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

const mib = (bytes: number) => `${(bytes / MiB).toFixed(0)} MiB`;
