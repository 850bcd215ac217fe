import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestStorage, type TestStorage } from "../../test/harness.js";
import { validRequest } from "../../test/support/valid-events.js";
import { type Database, openDatabase } from "../storage/database.js";
import { appendBatch } from "./append-batch.js";
import { readEvents, readManyEvents, readState } from "./read-events.js";
import { saveSnapshot } from "./snapshots.js";

/** An originator with `versions` events and snapshots at `snapshotAt` (payload names the version). */
interface History {
  readonly id: string;
  readonly versions: number;
  readonly snapshotAt: readonly number[];
}

/** What a state read must answer, from the model: the latest snapshot at or below `to`, and the events after it. */
function expected(h: History, from: number, to: number): { snapshot: number | undefined; events: number[] } {
  const top = to === 0 ? h.versions : Math.min(to, h.versions);
  const snapshot = h.snapshotAt.filter((v) => v <= (to === 0 ? Infinity : to)).sort((a, b) => b - a)[0];
  const start = Math.max(from, (snapshot ?? 0) + 1);
  const events: number[] = [];
  for (let v = start; v <= top; v++) events.push(v);
  return { snapshot, events };
}

// A Crud Store reads a document's state in one call: the latest snapshot and the events after it. The answer must be
// exactly what the two separate reads (GetSnapshot, then GetEvents after it) would give, for any history.
describe("readState and readManyEvents from the latest snapshot", () => {
  let storage: TestStorage;
  let database: Database;

  beforeAll(async () => {
    storage = await createTestStorage();
    database = await openDatabase({ ...storage.config, poolSize: 2 });
  });
  afterAll(async () => {
    await database.close();
    await storage.remove();
  });

  async function seed(versions: number, snapshotAt: readonly number[]): Promise<History> {
    const id = randomUUID();
    if (versions > 0) await appendBatch(database, [validRequest(id, 1n, versions)]);
    for (const v of snapshotAt) await saveSnapshot(database.db, id, BigInt(v), JSON.stringify({ at: v }));
    return { id, versions, snapshotAt };
  }

  const history = fc.integer({ min: 0, max: 12 }).chain((versions) =>
    fc.record({
      versions: fc.constant(versions),
      snapshotAt: versions === 0 ? fc.constant([]) : fc.uniqueArray(fc.integer({ min: 1, max: versions })),
      from: fc.integer({ min: 0, max: versions + 2 }),
      to: fc.integer({ min: 0, max: versions + 2 }),
    }),
  );

  it("answers the latest snapshot in range and exactly the events after it, for any history and range", async () => {
    await fc.assert(
      fc.asyncProperty(history, async ({ versions, snapshotAt, from, to }) => {
        const h = await seed(versions, snapshotAt);
        const want = expected(h, from, to);
        const state = await readState(database, h.id, BigInt(from), BigInt(to));
        expect(state.snapshot === undefined ? undefined : Number(state.snapshot.version)).toBe(want.snapshot);
        if (state.snapshot !== undefined) expect(JSON.parse(state.snapshot.payload)).toEqual({ at: want.snapshot });
        expect(state.events.map((e) => Number(e.version))).toEqual(want.events);
        // The events are the stored ones, whole: the same as a plain read of that range.
        const plain = await readEvents(database, h.id, BigInt(want.events[0] ?? 1), BigInt(want.events.at(-1) ?? 0));
        if (want.events.length > 0) expect(state.events).toEqual(plain);
      }),
      { numRuns: 40 },
    );
  });

  it("does the same for many ranges in one query, each in request order, mixed with plain ranges", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ h: history, withSnapshot: fc.boolean() }), { minLength: 1, maxLength: 6 }),
        async (cases) => {
          const seeded = await Promise.all(cases.map((c) => seed(c.h.versions, c.h.snapshotAt)));
          const ranges = cases.map((c, i) => ({
            originatorId: seeded[i]!.id,
            fromVersion: BigInt(c.h.from),
            toVersion: BigInt(c.h.to),
            fromLatestSnapshot: c.withSnapshot,
          }));
          const results = await readManyEvents(database, ranges, 1000);
          results.forEach((result, i) => {
            const c = cases[i]!;
            const want = c.withSnapshot
              ? expected(seeded[i]!, c.h.from, c.h.to)
              : expected({ ...seeded[i]!, snapshotAt: [] }, c.h.from, c.h.to);
            expect(result.snapshot === undefined ? undefined : Number(result.snapshot.version)).toBe(want.snapshot);
            expect(result.events.map((e) => Number(e.version))).toEqual(want.events);
          });
        },
      ),
      { numRuns: 25 },
    );
  });

  it("counts only events against the limit: a snapshot per range does not push a full batch over it", async () => {
    const a = await seed(3, [1]);
    const b = await seed(3, [2]);
    const ranges = [a, b].map((h) => ({
      originatorId: h.id,
      fromVersion: 0n,
      toVersion: 0n,
      fromLatestSnapshot: true,
    }));
    const results = await readManyEvents(database, ranges, 3);
    expect(results.map((r) => r.events.length)).toEqual([2, 1]);
    await expect(readManyEvents(database, ranges, 2)).rejects.toThrow(/more than 2 events/);
  });
});
