import { randomUUID } from "node:crypto";
import { getEventListeners } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestStorage, type TestStorage } from "../../test/harness.js";
import type { LogEntry } from "../domain/event.js";
import { validateAppend } from "../domain/validate-append.js";
import { type Database, openDatabase } from "../storage/database.js";
import { AppendBatcher } from "./append-batcher.js";
import { committedEntries, firstLogId } from "./committed-entries.js";
import { LogTail } from "./log-tail.js";
import { readLogHead, readLogRange } from "./read-log.js";

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

  async function started(maxEntries: number, parallelism = 1) {
    const tail = new LogTail(database, { fallbackPollMs: 60_000, maxEntries });
    await tail.start();
    // Wired as app.ts wires it: each commit of this process goes to the tail before its callers are answered.
    const batcher = new AppendBatcher(database, {
      parallelism,
      maxBatchEvents: 1000,
      onCommit: (written) => tail.committed(written),
    });
    return { tail, batcher };
  }

  /**
   * Lets the tail finish what it has pending (a NOTIFY of an earlier test's commits may have left it stale, or
   * fetching): it then sits at the log's head, and the next commit directly follows it.
   */
  async function settled(tail: LogTail): Promise<void> {
    const abort = new AbortController();
    while ((await tail.changed(abort.signal, 50)) || tail.head !== (await readLogHead(database))) continue;
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

  it("takes this process's commit into the ring as it returns, without reading", async () => {
    const tail = new LogTail(database, { fallbackPollMs: 60_000, maxEntries: 100 });
    await tail.start();
    let seen: { before: bigint; head: bigint; entries: LogEntry[] | undefined; built: LogEntry[] } | undefined;
    const batcher = new AppendBatcher(database, {
      parallelism: 1,
      maxBatchEvents: 1000,
      onCommit: (written) => {
        const before = tail.head;
        tail.committed(written);
        // In the same turn as the commit's return: no read of the database can have ended in between.
        seen = {
          before,
          head: tail.head,
          entries: tail.readFrom(firstLogId(written)!, 100),
          built: committedEntries(written),
        };
      },
    });
    try {
      await settled(tail);
      const waited = tail.changed(new AbortController().signal, 5000);
      const ids = await batcher.append(events(3));
      expect(seen?.before).toBe(ids[0]! - 1n);
      expect(seen?.head).toBe(ids.at(-1));
      expect(seen?.entries?.map((e) => e.id)).toEqual(ids);
      expect(seen?.entries).toStrictEqual(seen?.built);
      expect(await waited).toBe(true);
      expect(tail.readFrom(ids[0]!, 100)).toStrictEqual(await readLogRange(database, ids[0]!, ids.at(-1)!, {}, 100));
    } finally {
      await tail.close();
    }
  });

  it("never skips another process's entries between its own", async () => {
    // Two batches in flight where the database allows it, so this process's commits may also return out of order.
    const { tail, batcher } = await started(1000, database.parallelism);
    const elsewhere = new AppendBatcher(other, {
      parallelism: other.parallelism,
      maxBatchEvents: 1000,
      onCommit: () => {},
    });
    const abort = new AbortController();
    try {
      await settled(tail);
      const start = tail.head;
      let last: bigint | undefined;
      const seen: LogEntry[] = [];
      // A live reader, as stream-log.ts reads: from memory while the ring holds its position, else from the database
      // up to the head; waiting when there is nothing new. It stops at the last appended id, or gives up after a while.
      const follower = (async () => {
        const waiter = tail.waiter(abort.signal);
        const giveUp = Date.now() + 20_000;
        try {
          let next = start + 1n;
          while ((last === undefined || next <= last) && Date.now() < giveUp) {
            const entries = tail.readFrom(next, 1000) ?? (await readLogRange(database, next, tail.head, {}, 1000));
            if (entries.length === 0) {
              await waiter.changed(1000);
              continue;
            }
            seen.push(...entries);
            next = entries.at(-1)!.id + 1n;
          }
        } finally {
          waiter.close();
        }
      })();
      // 200 appends from 8 writers at once, each going to this process or to the other in a fixed, mixed pattern.
      const writers = Array.from({ length: 8 }, async (_, w) => {
        const ids: bigint[] = [];
        for (let i = 0; i < 25; i++) {
          const here = (w * 7 + i * 13) % 5 >= 2;
          ids.push(...(await (here ? batcher : elsewhere).append(events(1 + (i % 3)))));
        }
        return ids;
      });
      const all = (await Promise.all(writers)).flat().sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      last = all.at(-1);
      await follower;
      expect(seen.map((e) => e.id)).toEqual(all);
      expect(seen).toStrictEqual(await readLogRange(database, start + 1n, last!, {}, all.length + 1));
      // A reader that comes later finds the same in memory: the ring holds each entry once, in id order (a fetch that
      // overlapped this process's own commits must not have added them again).
      expect(tail.head).toBe(last);
      expect(tail.readFrom(start + 1n, 10_000)).toStrictEqual(seen);
    } finally {
      abort.abort();
      await tail.close();
    }
  });

  it("a NOTIFY names the last log id the statement drew", async () => {
    const payloads: string[] = [];
    await other.listen(
      "eskit_app_log",
      (payload) => payloads.push(payload),
      () => {},
    );
    const elsewhere = new AppendBatcher(database, { parallelism: 1, maxBatchEvents: 1000, onCommit: () => {} });
    const ids = await elsewhere.append(events(3));
    await expect.poll(() => payloads, { timeout: 5000 }).toContain(String(ids.at(-1)));
    // Only the statement's last id: a tail that holds it has nothing to read; one holding less reads the rest.
    for (const id of ids.slice(0, -1)) expect(payloads).not.toContain(String(id));
  });
});
