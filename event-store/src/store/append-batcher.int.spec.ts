import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestStorage, type TestStorage } from "../../test/harness.js";
import { ConcurrencyError } from "../domain/errors.js";
import { validRequest } from "../../test/support/valid-events.js";
import { type Database, openDatabase } from "../storage/database.js";
import { AppendBatcher } from "./append-batcher.js";
import { readEvents } from "./read-events.js";
import { readLogRange } from "./read-log.js";

// The group commit on a real database (PGlite, or PostgreSQL with DATABASE_URL): concurrent callers share
// transactions, yet each is answered for its own request alone, and the log holds exactly what was acknowledged.
describe("AppendBatcher", () => {
  let storage: TestStorage;
  let database: Database;
  const request = validRequest;

  beforeAll(async () => {
    storage = await createTestStorage();
    database = await openDatabase({ ...storage.config, dataDir: storage.config.dataDir, poolSize: 4 });
  });
  afterAll(async () => {
    await database.close();
    await storage.remove();
  });

  it("shares transactions among concurrent callers and answers each with the log ids of its own events, in order", async () => {
    const commits: Array<{ requests: number; events: number }> = [];
    const batcher = new AppendBatcher(database, {
      parallelism: 2,
      maxBatchEvents: 50,
      onCommit: (written) =>
        commits.push({ requests: written.length, events: written.reduce((n, r) => n + r.events.length, 0) }),
    });
    const originators = Array.from({ length: 120 }, () => randomUUID());
    const answers = await Promise.all(originators.map((id, i) => batcher.append(request(id, 1n, 1 + (i % 3)))));
    await batcher.drain();

    // Each request got one id per event, increasing within the request; no id was given twice.
    answers.forEach((ids, i) => {
      expect(ids).toHaveLength(1 + (i % 3));
      for (let k = 1; k < ids.length; k++) expect(ids[k]! > ids[k - 1]!).toBe(true);
    });
    const all = answers.flat();
    expect(new Set(all).size).toBe(all.length);
    // Fewer transactions than requests (the point of the batcher), every request and event counted once.
    expect(commits.length).toBeLessThan(originators.length);
    expect(commits.reduce((sum, c) => sum + c.requests, 0)).toBe(originators.length);
    expect(commits.reduce((sum, c) => sum + c.events, 0)).toBe(all.length);
    expect(Math.max(...commits.map((c) => c.events))).toBeLessThanOrEqual(50);
    // The log holds exactly the acknowledged ids, each naming the event the request sent.
    const sorted = [...all].sort((a, b) => (a < b ? -1 : 1));
    const log = await readLogRange(database, sorted[0]!, sorted.at(-1)!, {}, all.length + 10);
    expect(log.map((e) => e.id)).toEqual(sorted);
    const byId = new Map(log.map((e) => [e.id, e.event]));
    answers.forEach((ids, i) =>
      ids.forEach((id, k) => {
        expect(byId.get(id)).toMatchObject({ originatorId: originators[i], version: BigInt(k + 1) });
      }),
    );
  });

  it("fails a conflicting request alone: the others sharing its transaction commit", async () => {
    const batcher = new AppendBatcher(database, { parallelism: 1, maxBatchEvents: 1000, onCommit: () => {} });
    const taken = randomUUID();
    await batcher.append(request(taken, 1n));
    const fresh = Array.from({ length: 20 }, () => randomUUID());
    const outcomes = await Promise.allSettled([
      ...fresh.slice(0, 10).map((id) => batcher.append(request(id, 1n))),
      batcher.append(request(taken, 1n)),
      ...fresh.slice(10).map((id) => batcher.append(request(id, 1n))),
    ]);
    const conflict = outcomes[10]!;
    expect(conflict.status).toBe("rejected");
    expect((conflict as PromiseRejectedResult).reason).toBeInstanceOf(ConcurrencyError);
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(20);
    for (const id of fresh) expect(await readEvents(database, id, 0n, 0n)).toHaveLength(1);
    expect(await readEvents(database, taken, 0n, 0n)).toHaveLength(1);
  });

  it("drops a request whose caller gave up while it waited its turn, storing nothing of it", async () => {
    const batcher = new AppendBatcher(database, { parallelism: 1, maxBatchEvents: 1, onCommit: () => {} });
    const first = randomUUID();
    const dropped = randomUUID();
    const abort = new AbortController();
    const running = batcher.append(request(first, 1n, 5));
    const waiting = batcher.append(request(dropped, 1n), abort.signal);
    abort.abort(new Error("the caller went away"));
    await expect(waiting).rejects.toThrow("the caller went away");
    expect(await running).toHaveLength(5);
    await batcher.drain();
    expect(await readEvents(database, dropped, 0n, 0n)).toEqual([]);
  });
});
