import { randomUUID } from "node:crypto";
import { getEventListeners } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestStorage, type TestStorage } from "../../test/harness.js";
import { validateAppend } from "../domain/validate-append.js";
import { type Database, openDatabase } from "../storage/database.js";
import { AppendBatcher } from "./append-batcher.js";
import { LogTail } from "./log-tail.js";

// The one tail of the log per process, on a real database: waiters wake when entries commit (from this process, or
// from another through NOTIFY), the ring holds exactly the recent entries, and a quiet tail reads nothing.
describe("LogTail", () => {
  let storage: TestStorage;
  let database: Database;
  let other: Database;
  const limits = { maxEventBytes: 1 << 20, maxRequestBytes: 4 << 20, maxEvents: 1000 };
  const events = (count: number) =>
    validateAppend(
      Array.from({ length: count }, (_, i) => ({
        originatorId: randomUUID(),
        version: 1n,
        eventType: "Tail.Tested",
        payload: `{"i":${i}}`,
        metadata: {},
      })),
      limits,
    );

  beforeAll(async () => {
    storage = await createTestStorage();
    database = await openDatabase({ ...storage.config, dataDir: storage.config.dataDir, poolSize: 4 });
    // A second pool stands for another process writing to the same database: only NOTIFY tells this tail.
    other =
      storage.config.databaseUrl === undefined ? database : await openDatabase({ ...storage.config, poolSize: 2 });
  });
  afterAll(async () => {
    if (other !== database) await other.close();
    await database.close();
    await storage.remove();
  });

  async function started(maxEntries: number) {
    const tail = new LogTail(database, { fallbackPollMs: 60_000, maxEntries });
    await tail.start();
    const batcher = new AppendBatcher(database, { parallelism: 1, maxBatchEvents: 1000, onCommit: () => tail.wake() });
    return { tail, batcher };
  }

  it("wakes a waiter when entries commit, and hands out exactly the new entries in id order", async () => {
    const { tail, batcher } = await started(100);
    try {
      const before = tail.head;
      expect(tail.readFrom(before + 1n, 10)).toEqual([]);
      const waited = tail.changed(new AbortController().signal);
      const ids = await batcher.append(events(3));
      expect(await waited).toBe(true);
      expect(tail.head).toBe(ids.at(-1));
      expect(tail.readFrom(before + 1n, 10)?.map((e) => e.id)).toEqual(ids);
      expect(tail.readFrom(ids[1]!, 10)?.map((e) => e.id)).toEqual(ids.slice(1));
    } finally {
      await tail.close();
    }
  });

  it("keeps at most maxEntries in its ring: an older position is read from the database (undefined)", async () => {
    const { tail, batcher } = await started(5);
    try {
      const abort = new AbortController();
      // Settle the tail on the quiet log first: a tail left stale by an earlier wake reads the head when the first
      // waiter comes, and if that read already saw the 12 entries it would jump past them (more than the ring keeps)
      // instead of reading them into the ring, which is the other case this test is not about.
      await tail.changed(abort.signal, 50);
      const waited = tail.changed(abort.signal);
      const ids = await batcher.append(events(12));
      await waited;
      // Let any fetch the commit started finish, so the ring has settled at the head.
      while (tail.head !== ids.at(-1)) await tail.changed(abort.signal, 50);
      expect(tail.readFrom(ids[0]!, 100)).toBeUndefined();
      expect(tail.readFrom(ids[7]!, 100)?.map((e) => e.id)).toEqual(ids.slice(7));
      expect(tail.readFrom(ids[9]!, 2)?.map((e) => e.id)).toEqual(ids.slice(9, 11));
    } finally {
      await tail.close();
    }
  });

  it("reads nothing while nobody waits; the first waiter catches it up", async () => {
    const { tail, batcher } = await started(100);
    try {
      const before = tail.head;
      const ids = await batcher.append(events(4));
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(tail.head).toBe(before);
      const waited = tail.changed(new AbortController().signal);
      expect(await waited).toBe(true);
      expect(tail.head).toBe(ids.at(-1));
    } finally {
      await tail.close();
    }
  });

  it("hears commits of another process through NOTIFY, without a local wake", async () => {
    const { tail } = await started(100);
    const elsewhere = new AppendBatcher(other, { parallelism: 1, maxBatchEvents: 1000, onCommit: () => {} });
    try {
      const waited = tail.changed(new AbortController().signal, 5000);
      const ids = await elsewhere.append(events(2));
      expect(await waited).toBe(true);
      while (tail.head < ids.at(-1)!) expect(await tail.changed(new AbortController().signal, 5000)).toBe(true);
      expect(tail.readFrom(ids[0]!, 10)?.map((e) => e.id)).toEqual(ids);
    } finally {
      await tail.close();
    }
  });

  it("answers false when the wait is aborted, times out or the tail closes, and forgets the wait", async () => {
    const { tail } = await started(100);
    const abort = new AbortController();
    const aborted = tail.changed(abort.signal);
    abort.abort();
    expect(await aborted).toBe(false);
    expect(await tail.changed(new AbortController().signal, 20)).toBe(false);
    const closing = tail.changed(new AbortController().signal);
    await tail.close();
    expect(await closing).toBe(false);
    expect(await tail.changed(new AbortController().signal)).toBe(false);
  });

  it("listens to a stream's signal once however often it waits, and not at all once the waits are closed", async () => {
    const { tail, batcher } = await started(100);
    try {
      const abort = new AbortController();
      const waiter = tail.waiter(abort.signal);
      for (let i = 0; i < 5; i++) {
        const waited = waiter.changed(5000);
        await batcher.append(events(1));
        expect(await waited).toBe(true);
        expect(await waiter.changed(1)).toBe(false);
      }
      expect(getEventListeners(abort.signal, "abort")).toHaveLength(1);
      // A wait its caller gave up on ends when the next one starts; abort ends the one pending.
      const forgotten = waiter.changed();
      const pending = waiter.changed();
      expect(await forgotten).toBe(false);
      abort.abort();
      expect(await pending).toBe(false);
      expect(await waiter.changed()).toBe(false);
      const other = new AbortController();
      const closed = tail.waiter(other.signal);
      const ending = closed.changed();
      closed.close();
      expect(await ending).toBe(false);
      expect(getEventListeners(other.signal, "abort")).toHaveLength(0);
      // One-shot waits leave nothing behind on a signal that outlives them.
      for (let i = 0; i < 3; i++) expect(await tail.changed(other.signal, 1)).toBe(false);
      expect(getEventListeners(other.signal, "abort")).toHaveLength(0);
    } finally {
      await tail.close();
    }
  });
});
