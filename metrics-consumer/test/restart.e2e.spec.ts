import { spawnSync } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "@eskit/test-kit/event-store.js";
import {
  appendEvents,
  countsOf,
  expectedCounts,
  scrapeWhenAt,
  spawnMetricsConsumer,
  startStores,
  waitFor,
  type SpawnedMetricsConsumer,
  type Stores,
} from "./harness.js";
import { sampleSum, sampleValue, scrape, type MetricSample } from "./support/prometheus-text.js";

// The Metrics Consumer as a process, as in production: killed without warning (SIGKILL) while events are being
// appended, stopped cleanly (SIGTERM), and started again each time on the same Event Store.

const consumerId = "restart-test";
const eventTypes = [
  "Pet.Created",
  "Pet.Updated",
  "Pet.Deleted",
  "acme.v1.Order.Placed",
  "acme.v1.Order.Shipped",
  "Log.Written",
];
const batches = 100;
const maxBatches = 400;
const batchSize = 20;

let stores: Stores;
const processes: SpawnedMetricsConsumer[] = [];
/** Every event appended by this file, with its log id, in log order. */
const appended: Array<{ id: bigint; type: string }> = [];

beforeAll(async () => {
  stores = await startStores();
});
afterAll(async () => {
  for (const p of processes) p.kill("SIGKILL");
  await Promise.all(processes.map((p) => p.exited));
  await stores?.stop();
});

async function spawn(): Promise<SpawnedMetricsConsumer> {
  const p = await spawnMetricsConsumer({
    EVENT_STORE_URL: stores.eventStore.url,
    CRUD_STORE_URL: stores.crudStoreUrl,
    CONSUMER_ID: consumerId,
  });
  processes.push(p);
  return p;
}

/** Appends `count` events cycling through {@link eventTypes}, recording their ids. */
async function appendBatch(count: number, tag: string): Promise<void> {
  const types = Array.from({ length: count }, (_, i) => eventTypes[(appended.length + i) % eventTypes.length]!);
  const ids = await appendEvents(stores.events, types, tag);
  ids.forEach((id, i) => appended.push({ id, type: types[i]! }));
}

const lastId = () => appended.at(-1)!.id;
const typesWhere = (keep: (id: bigint) => boolean) => appended.filter((e) => keep(e.id)).map((e) => e.type);

describe("the metrics consumer process", () => {
  it("killed with SIGKILL mid-stream and restarted, resumes from its saved offset: every event is processed at least once", async () => {
    const first = await spawn();
    // Appends until some batches after the kill (at least `batches` in all), so the kill is always mid-stream.
    let killedAtBatch: number | undefined;
    const appender = (async () => {
      for (let b = 0; b < maxBatches && (b < batches || killedAtBatch === undefined || b < killedAtBatch + 10); b++) {
        await appendBatch(batchSize, `kill-${b}`);
        await sleep(10);
      }
    })();

    // Kill it once it has processed a good part of the stream, while events are still being appended.
    let beforeKill: MetricSample[] = [];
    await waitFor(
      async () => {
        beforeKill = (await scrape(first.url)).samples;
        return (sampleValue(beforeKill, "eskit_consumer_offset", { consumer_id: consumerId }) ?? 0) >= 500;
      },
      { timeoutMs: 30_000, what: "the first process past offset 500" },
    );
    first.kill("SIGKILL");
    killedAtBatch = Math.ceil(appended.length / batchSize);
    expect(await first.exited).toBeNull();
    await appender;
    expect(appended.length).toBeGreaterThan(killedAtBatch * batchSize);

    // Its counts up to the offset it reported were right (counters are read after the offset, so they may be ahead).
    const reportedOffset = BigInt(sampleValue(beforeKill, "eskit_consumer_offset", { consumer_id: consumerId })!);
    const countedBeforeKill = countsOf(beforeKill, "eskit_events_store_total");
    for (const [key, n] of expectedCounts(typesWhere((id) => id <= reportedOffset))) {
      expect(countedBeforeKill.get(key)).toBeGreaterThanOrEqual(n);
    }

    // It had saved progress; an offset is saved only once every entry up to it was handled.
    const saved = (await stores.consumers.getOffset(consumerId))?.offset ?? 0n;
    expect(saved).toBeGreaterThan(0n);
    expect(saved).toBeLessThan(lastId());

    // The new process resumes right after the saved offset: it counts exactly the entries after it, none before,
    // and reaches the end of the log. So every entry was processed at least once (up to `saved` by the first
    // process, after it by the second); those the first processed after its last save are counted twice.
    const second = await spawn();
    const samples = await scrapeWhenAt(second.url, consumerId, lastId(), 30_000);
    expect(countsOf(samples, "eskit_events_store_total")).toEqual(expectedCounts(typesWhere((id) => id > saved)));
    await waitFor(
      async () =>
        sampleValue((await scrape(second.url)).samples, "eskit_consumer_lag_events", { consumer_id: consumerId }) === 0,
      {
        timeoutMs: 5000,
        what: "lag 0",
      },
    );
    const countedTwice =
      sampleSum(beforeKill, "eskit_events_store_total") +
      sampleSum(samples, "eskit_events_store_total") -
      appended.length;
    expect(countedTwice).toBeLessThanOrEqual(Number(lastId() - saved));
  }, 90_000);

  it("stopped with SIGTERM and restarted, counts nothing twice, then counts only what is appended afterwards", async () => {
    const running = processes.at(-1)!;
    await scrapeWhenAt(running.url, consumerId, lastId());
    expect(await running.stop()).toBe(0);
    expect((await stores.consumers.getOffset(consumerId))?.offset).toBe(lastId());

    const restarted = await spawn();
    await scrapeWhenAt(restarted.url, consumerId, lastId());
    // Give it time to (wrongly) read anything again.
    await sleep(1000);
    const idle = (await scrape(restarted.url)).samples;
    expect(sampleSum(idle, "eskit_events_store_total")).toBe(0);
    expect(sampleValue(idle, "eskit_consumer_offset", { consumer_id: consumerId })).toBe(Number(lastId()));

    const before = lastId();
    await appendBatch(12, "after-term");
    const samples = await scrapeWhenAt(restarted.url, consumerId, lastId());
    expect(countsOf(samples, "eskit_events_store_total")).toEqual(expectedCounts(typesWhere((id) => id > before)));
    expect(await restarted.stop()).toBe(0);
  });

  it("refuses an invalid configuration with exit code 2, naming every bad variable", () => {
    const result = spawnSync(process.execPath, ["--import", "tsx", "metrics-consumer/src/main.ts"], {
      cwd: repoRoot,
      env: { ...process.env, PORT: "0", ESKIT_METRICS_MAX_LABEL_VALUES: "many", ESKIT_LAG_INTERVAL_MS: "1" },
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("eskit metrics-consumer: invalid configuration");
    expect(result.stderr).toContain('ESKIT_METRICS_MAX_LABEL_VALUES must be an integer 1..1000000, got "many"');
    expect(result.stderr).toContain('ESKIT_LAG_INTERVAL_MS must be an integer 100..600000, got "1"');
  });
});
