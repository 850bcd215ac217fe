import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestStorage, type TestStorage } from "../../test/harness.js";
import { ConcurrencyError, DuplicateEventError, VersionGapError } from "../domain/errors.js";
import type { ValidEvent } from "../domain/validate-append.js";
import { validEvents, validRequest } from "../../test/support/valid-events.js";
import { type Database, openDatabase } from "../storage/database.js";
import { type AppendOutcome, appendBatch } from "./append-batch.js";
import { appendBatchInTransaction } from "./append-batch-drizzle.js";
import { readEvents } from "./read-events.js";

// One database round trip per batch in the usual case: the statement checks the batch's assumption and writes it.
// Conflicts and retries cost a second one only when the batch also holds something to write.
describe("appendBatch", () => {
  let storage: TestStorage;
  let database: Database;
  /** The real database, with its statements counted (nothing else changes). */
  let counted: Database;
  let statements = 0;
  const request = validRequest;
  const run = async (requests: ValidEvent[][]): Promise<{ outcomes: AppendOutcome[]; statements: number }> => {
    statements = 0;
    const outcomes = await appendBatch(counted, requests);
    return { outcomes, statements };
  };

  beforeAll(async () => {
    storage = await createTestStorage();
    database = await openDatabase({ ...storage.config, poolSize: 4 });
    counted = {
      ...database,
      query: (text, params, signal) => {
        statements++;
        return database.query(text, params, signal);
      },
    };
  });
  afterAll(async () => {
    await database.close();
    await storage.remove();
  });

  it("writes a batch of new events, several requests and originators, with one statement", async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    await appendBatch(database, [request(a, 1n, 2)]);
    const { outcomes, statements } = await run([request(a, 3n, 2), request(b, 1n), request(a, 5n), request(b, 2n, 3)]);
    expect(statements).toBe(1);
    const ids = outcomes.map((o) => ("logIds" in o ? o.logIds : o.error));
    const flat = ids.flat() as bigint[];
    expect(flat).toHaveLength(7);
    for (let i = 1; i < flat.length; i++) expect(flat[i]! > flat[i - 1]!).toBe(true);
    expect((await readEvents(database, a, 1n, 0n)).map((e) => e.version)).toEqual([1n, 2n, 3n, 4n, 5n]);
    expect((await readEvents(database, b, 1n, 0n)).map((e) => e.version)).toEqual([1n, 2n, 3n, 4n]);
  });

  it("answers a conflict alone with the current version in one statement, and writes nothing", async () => {
    const a = randomUUID();
    await appendBatch(database, [request(a, 1n, 3)]);
    const { outcomes, statements } = await run([request(a, 2n)]);
    expect(statements).toBe(1);
    expect(outcomes).toEqual([{ error: new ConcurrencyError(a, 2n, 3n) }]);
    const gap = await run([request(a, 7n)]);
    expect(gap.statements).toBe(1);
    expect(gap.outcomes).toEqual([{ error: new VersionGapError(a, 7n, 3n) }]);
    expect(await readEvents(database, a, 1n, 0n)).toHaveLength(3);
  });

  it("re-plans a batch whose assumption failed: the conflicting request is refused, the others written", async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    await appendBatch(database, [request(a, 1n, 2)]);
    const { outcomes, statements } = await run([request(b, 1n), request(a, 1n), request(a, 3n), request(b, 2n)]);
    expect(statements).toBe(2);
    expect(outcomes[1]).toEqual({ error: new ConcurrencyError(a, 1n, 2n) });
    for (const i of [0, 2, 3]) expect(outcomes[i]).toMatchObject({ written: true });
    expect((await readEvents(database, a, 1n, 0n)).map((e) => e.version)).toEqual([1n, 2n, 3n]);
    expect((await readEvents(database, b, 1n, 0n)).map((e) => e.version)).toEqual([1n, 2n]);
  });

  it("answers an idempotent retry with the stored log ids in one statement, and one that differs as taken", async () => {
    const a = randomUUID();
    const ids = [randomUUID(), randomUUID()];
    const [first] = await appendBatch(database, [request(a, 1n, 2, ids)]);
    const retry = await run([request(a, 1n, 2, ids)]);
    expect(retry.statements).toBe(1);
    expect(retry.outcomes).toEqual([{ logIds: (first as { logIds: bigint[] }).logIds, written: false }]);

    const other = validEvents([
      { originatorId: a, version: 1n, eventType: "Batch.Tested", payload: `{"i":9}`, metadata: {}, eventId: ids[0]! },
    ]);
    const taken = await run([other]);
    expect(taken.outcomes[0]).toMatchObject({ error: expect.any(DuplicateEventError) as unknown });
    expect(await readEvents(database, a, 1n, 0n)).toHaveLength(2);
  });

  // The first attempt does not look event ids up when every version holds: the unique key on event_id catches a reused
  // one, and the batch is planned again with every id looked up.
  it("refuses an event id stored under another originator even when every version holds, writing the rest", async () => {
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    const stored = randomUUID();
    await appendBatch(database, [request(a, 1n, 1, [stored])]);
    const { outcomes, statements } = await run([request(b, 1n), request(c, 1n, 1, [stored]), request(b, 2n)]);
    expect(outcomes[1]).toMatchObject({ error: expect.any(DuplicateEventError) as unknown });
    for (const i of [0, 2]) expect(outcomes[i]).toMatchObject({ written: true });
    expect(statements).toBeLessThanOrEqual(3);
    expect((await readEvents(database, b, 1n, 0n)).map((e) => e.version)).toEqual([1n, 2n]);
    expect(await readEvents(database, c, 1n, 0n)).toEqual([]);
    expect((await readEvents(database, a, 1n, 0n)).map((e) => e.eventId)).toEqual([stored]);
  });

  it("keeps every request's verdict when writers race on the same originators (no lost or doubled version)", async () => {
    const a = randomUUID();
    await appendBatch(database, [request(a, 1n)]);
    // Several batches at once, each trying the next version: exactly one wins each version.
    const rounds = 6;
    for (let v = 2n; v < 2n + BigInt(rounds); v++) {
      const results = await Promise.all(Array.from({ length: 4 }, () => appendBatch(database, [request(a, v)])));
      const written = results.filter(([o]) => "logIds" in o! && o.written);
      expect(written).toHaveLength(1);
      for (const [o] of results) if (!("logIds" in o!)) expect(o!.error).toEqual(new ConcurrencyError(a, v, v));
    }
    expect((await readEvents(database, a, 1n, 0n)).map((e) => e.version)).toEqual(
      Array.from({ length: rounds + 1 }, (_, i) => BigInt(i + 1)),
    );
  });

  it("decides in a Drizzle transaction (ESKIT_APPEND_PATH=drizzle-transaction) exactly what the statement decides", async () => {
    // The same script of batches (fresh appends, conflicts, gaps, retries, retries that differ) on two sets of
    // originators, one per path; the answers must agree but for the log ids themselves.
    const script = (prefix: string, ids: string[]): ValidEvent[][][] => [
      [request(`${prefix}a`, 1n, 2, ids.slice(0, 2)), request(`${prefix}b`, 1n)],
      [request(`${prefix}a`, 2n), request(`${prefix}a`, 3n), request(`${prefix}b`, 5n)],
      [request(`${prefix}a`, 1n, 2, ids.slice(0, 2)), request(`${prefix}b`, 2n, 2)],
      [request(`${prefix}c`, 1n, 1, [ids[0]!]), request(`${prefix}b`, 4n), request(`${prefix}b`, 4n)],
    ];
    const shape = (outcome: AppendOutcome) =>
      "error" in outcome
        ? { error: outcome.error.constructor.name }
        : { written: outcome.written, events: outcome.logIds.length };
    const ids = [randomUUID(), randomUUID()];
    const otherIds = [randomUUID(), randomUUID()];
    const byStatement: unknown[] = [];
    const byTransaction: unknown[] = [];
    for (const batch of script(`${randomUUID()}-`, ids))
      byStatement.push((await appendBatch(database, batch)).map(shape));
    for (const batch of script(`${randomUUID()}-`, otherIds)) {
      byTransaction.push((await appendBatchInTransaction(database, batch)).map(shape));
    }
    expect(byTransaction).toEqual(byStatement);
    expect(byStatement.flat()).toContainEqual({ error: "ConcurrencyError" });
    expect(byStatement.flat()).toContainEqual({ error: "VersionGapError" });
    expect(byStatement.flat()).toContainEqual({ error: "DuplicateEventError" });
    expect(byStatement.flat()).toContainEqual({ written: false, events: 2 });
  });
});
