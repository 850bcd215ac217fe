import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestStorage, type TestStorage } from "../../test/harness.js";
import { validateAppend } from "../domain/validate-append.js";
import { type Database, openDatabase } from "../storage/database.js";
import { AppendBatcher } from "./append-batcher.js";
import { LogTail } from "./log-tail.js";
import { streamLog, streamNothing } from "./stream-log.js";
import { ByteBudget } from "@eskit/server-kit/limits/byte-budget.js";

// The shared tail with a tiny ring, so that every path of a stream is taken: database catch-up, the ring, the jump
// after a long idle spell, and live delivery.
describe("streamLog over the shared tail", () => {
  let storage: TestStorage;
  let database: Database;
  let tail: LogTail;
  let batcher: AppendBatcher;
  const limits = { maxEventBytes: 1 << 20, maxRequestBytes: 4 << 20, maxEvents: 1000 };
  const streamOptions = { batchBytes: 1 << 20, budget: new ByteBudget(64 << 20), heartbeatMs: 0 };
  let version = 0n;
  const append = async (count: number, eventType = "T.Happened") => {
    const events = Array.from({ length: count }, () => ({
      originatorId: "o",
      version: ++version,
      eventType,
      payload: `{"v":${version}}`,
      metadata: {},
    }));
    return batcher.append(validateAppend(events, limits));
  };

  beforeAll(async () => {
    storage = await createTestStorage();
    database = await openDatabase({ ...storage.config, dataDir: storage.config.dataDir, poolSize: 4 });
    tail = new LogTail(database, { fallbackPollMs: 60_000, maxEntries: 10 });
    await tail.start();
    batcher = new AppendBatcher(database, {
      parallelism: 1,
      maxBatchEvents: 100,
      onCommit: (written) => tail.committed(written),
    });
  });
  afterAll(async () => {
    await tail.close();
    await database.close();
    await storage.remove();
  });

  /** Reads from the stream until `count` entries came; returns their ids and payload versions. */
  async function take(fromId: bigint, count: number, selector: { entityType?: string } = {}) {
    const abort = new AbortController();
    const ids: bigint[] = [];
    for await (const batch of streamLog(database, tail, fromId, selector, abort.signal, streamOptions)) {
      ids.push(...batch.entries.map((e) => e.id));
      if (ids.length >= count) abort.abort();
    }
    return ids;
  }

  it("delivers everything appended while nobody listened, far more than the ring holds, then new entries live", async () => {
    const stored = await append(35);
    const reading = take(stored[0]!, 40);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const live = await append(5);
    expect(await reading).toEqual([...stored, ...live]);
  });

  it("gives a stream that starts behind the ring the database's entries, then the ring's, with no gap", async () => {
    const first = await append(15);
    const ids = await take(first[0]!, 15);
    expect(ids).toEqual(first);
    const more = await append(3);
    expect(await take(first[0]!, 18)).toEqual([...first, ...more]);
  });

  it("filters in every path alike", async () => {
    const before = await append(12, "Other.Happened");
    const wanted = await append(4, "Wanted.Happened");
    await append(12, "Other.Happened");
    expect(await take(before[0]!, 4, { entityType: "Wanted" })).toEqual(wanted);
  });

  it("ends at once when its signal has already aborted (ours and v1 wait for nothing)", async () => {
    await append(3);
    const aborted = AbortSignal.abort();
    const started = performance.now();
    const batches = [];
    for await (const batch of streamLog(database, tail, 1n, {}, aborted, streamOptions)) batches.push(batch);
    for await (const batch of streamNothing(aborted, 10)) batches.push(batch);
    expect(batches).toEqual([]);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it("bounds batches in bytes: 16 KiB for the first 256 KiB, then doubling while the consumer takes them, up to batchBytes", async () => {
    const big = "x".repeat(4000);
    const events = Array.from({ length: 150 }, (_, i) => ({
      originatorId: "big",
      version: BigInt(i + 1),
      eventType: "Big.Written",
      payload: JSON.stringify(big),
      metadata: {},
    }));
    const ids = await batcher.append(validateAppend(events, limits));
    const budget = new ByteBudget(64 << 20);
    const abort = new AbortController();
    const sizes: number[] = [];
    const seen: bigint[] = [];
    const options = { batchBytes: 64 * 1024, budget, heartbeatMs: 0 };
    for await (const batch of streamLog(database, tail, ids[0]!, { entityType: "Big" }, abort.signal, options)) {
      // While a batch is out, its bytes are taken from the shared budget.
      expect(budget.used).toBeGreaterThan(0);
      sizes.push(batch.entries.reduce((sum, e) => sum + e.event.payload.length, 0));
      seen.push(...batch.entries.map((e) => e.id));
      if (seen.length >= ids.length) abort.abort();
    }
    expect(seen).toEqual(ids);
    expect(sizes[0]).toBeLessThanOrEqual(16 * 1024);
    // What an unread transport would take (an HTTP/2 window, socket buffers) goes in first-size batches.
    let sent = 0;
    for (const size of sizes) {
      if (sent >= 256 * 1024) break;
      expect(size).toBeLessThanOrEqual(16 * 1024);
      sent += size;
    }
    expect(Math.max(...sizes)).toBeLessThanOrEqual(64 * 1024);
    expect(Math.max(...sizes)).toBeGreaterThan(32 * 1024);
    expect(budget.used).toBe(0);
  });

  it("sends an empty batch every heartbeatMs while nothing new passes the filter", async () => {
    const abort = new AbortController();
    const beats: number[] = [];
    const heartbeatMs = 100;
    const options = { ...streamOptions, heartbeatMs };
    // Reads until the third heartbeat, however long this machine takes to produce it; at most 10 s, so a stream
    // without heartbeats ends here with fewer than three.
    const cap = setTimeout(() => abort.abort(), 10_000);
    const started = performance.now();
    try {
      for await (const batch of streamLog(database, tail, BigInt(Number.MAX_SAFE_INTEGER), {}, abort.signal, options)) {
        expect(batch.entries).toEqual([]);
        beats.push(performance.now() - started);
        if (beats.length >= 3) abort.abort();
      }
    } finally {
      clearTimeout(cap);
    }
    const elapsed = performance.now() - started;
    expect(beats.length).toBeGreaterThanOrEqual(3);
    // Not more often than every heartbeatMs: a heartbeat comes only after heartbeatMs without a batch, all of it after
    // `started`, so at most elapsed / heartbeatMs of them (+1 for rounding). Measured here, so a slow machine only
    // loosens the bound; a stream that sends them too often fails it.
    expect(beats.length).toBeLessThanOrEqual(Math.floor(elapsed / heartbeatMs) + 1);
    expect(beats[0]).toBeGreaterThanOrEqual(0.75 * heartbeatMs);
  });
});
