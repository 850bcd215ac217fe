import { create } from "@bufbuild/protobuf";
import { AppLogEntrySchema, type AppLogEntry } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import type { TransactionSql } from "postgres";
import { describe, expect, it } from "vitest";
import { useProjectionDatabase } from "../test/support/projection-database.js";
import { applyTicks, createTickTables, readTicks, replayTicks } from "../test/support/tick-projection.js";
import { applyBatch, pipelineBatches, type BatchRound, type ProjectionDatabase } from "./projection-batch.js";
import { LostHoldError, ProjectionHandlerError } from "./projection-errors.js";
import { openHolderLock, type Hold } from "./projection-lock.js";
import type { ProjectionContext } from "./projection-options.js";
import { claimProjectionRow, readProjectionPosition } from "./projection-table.js";

// Advisory locks held by another session, and pg_locks: PostgreSQL itself.
const postgresUrl = process.env["DATABASE_URL"];
const skipReason = postgresUrl ? "" : " (skipped: needs PostgreSQL, set DATABASE_URL)";

function tick(id: bigint, originator = `o${id % 3n}`, n = Number(id)): AppLogEntry {
  return create(AppLogEntrySchema, {
    id,
    event: { originator: { id: originator, version: id }, eventType: "Tick.Ticked", payload: JSON.stringify({ n }) },
  });
}
const ticks = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => tick(BigInt(from + i)));

describe.skipIf(!postgresUrl)(`applying one batch of a projection${skipReason}`, () => {
  const fixture = useProjectionDatabase(postgresUrl, 4);
  const { db, locks } = fixture;

  /** A projection named `name` with its own tables, held by this test; the round applies batches for it. */
  async function holding(name: string, overrides: Partial<BatchRound<TransactionSql>> = {}) {
    const table = (base: string) => `${name}_${base}`;
    await createTickTables(fixture.sql, { table });
    await claimProjectionRow(fixture.sql, name);
    const lock = openHolderLock(fixture.sql, name, 20, 10_000);
    locks.push(lock);
    const hold = (await lock.acquire(new AbortController().signal, () => {})) as Hold;
    let position = 0n;
    const lost: LostHoldError[] = [];
    const retried: unknown[] = [];
    const calls: bigint[][] = [];
    const round: BatchRound<TransactionSql> = {
      name,
      version: "",
      context: { name, table: (base) => base },
      db,
      hold,
      handle: async (entries, tx, context: ProjectionContext) => {
        calls.push(entries.map((e) => e.id));
        await applyTicks(entries, tx, { ...context, table });
      },
      backoff: { initialDelayMs: 1, maxDelayMs: 5 },
      timeoutMs: 10_000,
      stop: new AbortController().signal,
      position: () => position,
      committed: (p) => void (position = p),
      retrying: (error) => void retried.push(error),
      lose: (error) => void lost.push(error),
      ...overrides,
    };
    return {
      round,
      lock,
      hold,
      lost,
      retried,
      calls,
      read: () => readTicks(fixture.sql, table),
      position: () => position,
    };
  }

  it("commits the handler's writes and the new position together", async () => {
    const p = await holding("together");
    await applyBatch(p.round, ticks(1, 5));
    await applyBatch(p.round, ticks(6, 8));
    expect(await p.read()).toEqual(replayTicks(ticks(1, 8)));
    expect(await readProjectionPosition(fixture.sql, "together")).toBe(8n);
    expect(p.position()).toBe(8n);
  });

  it("rolls back the whole batch when the handler throws: no row, the position unchanged", async () => {
    const p = await holding("throws", {
      handle: async (entries, tx, context) => {
        await applyTicks(entries, tx, { ...context, table: (base) => `throws_${base}` });
        if (entries.some((e) => e.id === 4n)) throw new Error("no 4 please");
      },
    });
    await applyBatch(p.round, ticks(1, 2));
    const error = await applyBatch(p.round, ticks(3, 5)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProjectionHandlerError);
    expect(error).toMatchObject({ projection: "throws", fromId: 3n, toId: 5n, position: 2n });
    expect((error as Error).cause).toEqual(new Error("no 4 please"));
    expect(await p.read()).toEqual(replayTicks(ticks(1, 2)));
    expect(await readProjectionPosition(fixture.sql, "throws")).toBe(2n);
  });

  it("retries a batch whose commit succeeded but whose answer was lost, without applying it twice", async () => {
    let lose = true;
    const p = await holding("lost-answer", {
      db: {
        sql: fixture.sql,
        async transaction(work) {
          const result = await db.transaction(work);
          if (lose) {
            lose = false;
            throw Object.assign(new Error("write CONNECTION_CLOSED"), { code: "CONNECTION_CLOSED" });
          }
          return result;
        },
      },
    });
    await applyBatch(p.round, ticks(1, 4));
    expect(p.calls).toEqual([[1n, 2n, 3n, 4n]]);
    expect(p.retried).toHaveLength(1);
    expect(await p.read()).toEqual(replayTicks(ticks(1, 4)));
    expect(p.position()).toBe(4n);
  });

  it("retries a serialization failure raised inside the handler, applying the batch once", async () => {
    let failures = 2;
    const table = (base: string) => `serialization_${base}`;
    const p = await holding("serialization", {
      handle: async (entries, tx, context) => {
        await applyTicks(entries, tx, { ...context, table });
        if (failures-- > 0) {
          await tx`do $$ begin raise exception 'could not serialize access' using errcode = '40001'; end $$`;
        }
      },
    });
    await applyBatch(p.round, ticks(1, 3));
    expect(p.retried.map((e) => (e as { code?: string }).code)).toEqual(["40001", "40001"]);
    expect(await p.read()).toEqual(replayTicks(ticks(1, 3)));
    expect(await readProjectionPosition(fixture.sql, "serialization")).toBe(3n);
  });

  it("applies nothing once the position moved under it (another instance applied): the hold is lost", async () => {
    const p = await holding("moved");
    await applyBatch(p.round, ticks(1, 2));
    await fixture.sql`update eskit_projections set position = 5 where name = 'moved'`;
    const error = await applyBatch(p.round, ticks(3, 4)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LostHoldError);
    expect(p.lost).toHaveLength(1);
    expect(p.calls).toEqual([[1n, 2n]]);
    expect(await readProjectionPosition(fixture.sql, "moved")).toBe(5n);
  });

  it("applies nothing once its lock is gone, even with the position unchanged", async () => {
    const p = await holding("unlocked");
    await applyBatch(p.round, ticks(1, 2));
    await p.hold.release();
    const error = await applyBatch(p.round, ticks(3, 4)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LostHoldError);
    expect(p.calls).toEqual([[1n, 2n]]);
    expect(await p.read()).toEqual(replayTicks(ticks(1, 2)));
    expect(await readProjectionPosition(fixture.sql, "unlocked")).toBe(2n);
  });

  it("applies nothing once a rebuild switched its row to another version, its lock and position unchanged", async () => {
    const p = await holding("outdated");
    await applyBatch(p.round, ticks(1, 2));
    await fixture.sql`update eskit_projections set version = '2' where name = 'outdated'`;
    const error = await applyBatch(p.round, ticks(3, 4)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LostHoldError);
    expect((error as Error).message).toMatch(/is at version "2", this instance runs ""/);
    expect(p.lost).toHaveLength(1);
    expect(p.calls).toEqual([[1n, 2n]]);
    expect(await p.read()).toEqual(replayTicks(ticks(1, 2)));
    expect(await readProjectionPosition(fixture.sql, "outdated")).toBe(2n);
  });

  it("hands the handler the round's name and table names (a rebuild's fresh tables)", async () => {
    const fresh = (base: string) => `fresh_${base}`;
    await createTickTables(fixture.sql, { table: fresh });
    const seen: Array<{ name: string; position: bigint; table: string }> = [];
    const p = await holding("renamed", {
      context: { name: "the-projection", table: fresh },
      handle: async (entries, tx, context) => {
        seen.push({ name: context.name, position: context.position, table: context.table("applied") });
        await applyTicks(entries, tx, context);
      },
    });
    await applyBatch(p.round, ticks(1, 3));
    await applyBatch(p.round, ticks(4, 5));
    expect(seen).toEqual([
      { name: "the-projection", position: 0n, table: "fresh_applied" },
      { name: "the-projection", position: 3n, table: "fresh_applied" },
    ]);
    expect(await readTicks(fixture.sql, fresh)).toEqual(replayTicks(ticks(1, 5)));
    expect(await p.read()).toEqual({ applied: [], totals: [] });
  });

  it("stops retrying a transient error when stopped, and commits nothing", async () => {
    const stop = new AbortController();
    const p = await holding("stopped", {
      stop: stop.signal,
      backoff: { initialDelayMs: 60_000, maxDelayMs: 60_000 },
      handle: async (_entries, tx) => {
        await tx`do $$ begin raise exception 'deadlock' using errcode = '40P01'; end $$`;
      },
    });
    const applying = applyBatch(p.round, ticks(1, 2));
    await new Promise((resolve) => setTimeout(resolve, 100));
    stop.abort();
    await expect(applying).rejects.toMatchObject({ code: "40P01" });
    expect(await readProjectionPosition(fixture.sql, "stopped")).toBe(0n);
  });
  /**
   * The database of `holding`, whose transaction number `failing` (0: the first) does its work and then, before it
   * commits, waits `delayMs` and throws `error` when given (rolled back) or, with `afterCommit`, throws it once the
   * commit succeeded (an answer lost); a transaction numbered in `early` throws its error as it begins. `events`
   * records when each transaction began and ended.
   */
  function scripted(
    failing: number,
    how: { error?: unknown; afterCommit?: boolean; delayMs?: number },
    early: Record<number, { error: unknown; early: true }> = {},
  ) {
    const events: string[] = [];
    let count = 0;
    const scriptedDb: ProjectionDatabase<TransactionSql> = {
      sql: fixture.sql,
      async transaction(work) {
        const i = count++;
        events.push(`begin ${i}`);
        if (early[i] !== undefined) {
          // Fails as it begins (its connection gone while it waited for the row lock): nothing of it ran.
          events.push(`end ${i}`);
          throw early[i].error;
        }
        try {
          const result = await db.transaction(async (s, tx) => {
            const out = await work(s, tx);
            if (i === failing && how.delayMs !== undefined) await new Promise((r) => setTimeout(r, how.delayMs));
            if (i === failing && how.error !== undefined && !how.afterCommit) throw how.error;
            return out;
          });
          if (i === failing && how.error !== undefined && how.afterCommit) throw how.error;
          return result;
        } finally {
          events.push(`end ${i}`);
        }
      },
    };
    return { db: scriptedDb, events };
  }

  const lostAnswer = Object.assign(new Error("write CONNECTION_CLOSED"), { code: "CONNECTION_CLOSED" });
  const serializationFailure = Object.assign(new Error("could not serialize access"), { code: "40001" });

  it("opens the next batch's transaction while the one before commits; that one goes on once it committed", async () => {
    const s = scripted(0, { delayMs: 150 });
    const p = await holding("pipelined", { db: s.db });
    const failed: unknown[] = [];
    const pipeline = pipelineBatches(p.round, (e) => void failed.push(e));
    await pipeline.apply(ticks(1, 4));
    await pipeline.apply(ticks(5, 8));
    await pipeline.drain();
    expect(s.events).toEqual(["begin 0", "begin 1", "end 0", "end 1"]);
    expect(p.calls).toEqual([ticks(1, 4).map((e) => e.id), ticks(5, 8).map((e) => e.id)]);
    expect(await p.read()).toEqual(replayTicks(ticks(1, 8)));
    expect(await readProjectionPosition(fixture.sql, "pipelined")).toBe(8n);
    expect(p.position()).toBe(8n);
    expect(failed).toEqual([]);
  });

  it("rolls the next batch back when the commit before it failed, and applies both once, in order", async () => {
    const s = scripted(0, { error: serializationFailure, delayMs: 100 });
    const p = await holding("pipelined-rollback", { db: s.db });
    const pipeline = pipelineBatches(p.round, () => {});
    await pipeline.apply(ticks(1, 4));
    await pipeline.apply(ticks(5, 8));
    await pipeline.drain();
    // The first batch twice (its first transaction rolled back), the second once: it waited before its handler.
    expect(p.calls).toEqual([1, 1, 5].map((from) => ticks(from, from + 3).map((e) => e.id)));
    expect(p.retried).toEqual([serializationFailure]);
    expect(await p.read()).toEqual(replayTicks(ticks(1, 8)));
    expect(await readProjectionPosition(fixture.sql, "pipelined-rollback")).toBe(8n);
  });

  it("applies the next batch once after a commit that succeeded but whose answer was lost", async () => {
    const s = scripted(0, { error: lostAnswer, afterCommit: true, delayMs: 100 });
    const p = await holding("pipelined-lost", { db: s.db });
    const pipeline = pipelineBatches(p.round, () => {});
    await pipeline.apply(ticks(1, 4));
    await pipeline.apply(ticks(5, 8));
    await pipeline.drain();
    expect(p.calls).toEqual([ticks(1, 4).map((e) => e.id), ticks(5, 8).map((e) => e.id)]);
    expect(await p.read()).toEqual(replayTicks(ticks(1, 8)));
    expect(await readProjectionPosition(fixture.sql, "pipelined-lost")).toBe(8n);
  });

  // Both transactions fail at once (connections dropped): the next batch's own retry must not start from the position
  // before the batch still being retried, or it would apply over that batch's entries and they would never be.
  it("retries the next batch only after the one before it, when both transactions fail together", async () => {
    const s = scripted(0, { error: serializationFailure, delayMs: 150 }, { 1: { error: lostAnswer, early: true } });
    const committed: bigint[] = [];
    const p = await holding("pipelined-both", {
      db: s.db,
      committed: (position) => void committed.push(position),
      position: () => committed.at(-1) ?? 0n,
    });
    const pipeline = pipelineBatches(p.round, () => {});
    await pipeline.apply(ticks(1, 4));
    await pipeline.apply(ticks(5, 8));
    await pipeline.drain();
    expect(p.lost).toEqual([]);
    expect(await p.read()).toEqual(replayTicks(ticks(1, 8)));
    expect(await readProjectionPosition(fixture.sql, "pipelined-both")).toBe(8n);
    expect(committed).toEqual([4n, 8n]);
  });

  it("applies nothing after a commit that failed for good, and says so to the next batch and to `failed`", async () => {
    const s = scripted(1, { error: new Error("deferred constraint"), delayMs: 100 });
    const p = await holding("pipelined-fails", { db: s.db });
    const failed: unknown[] = [];
    const pipeline = pipelineBatches(p.round, (e) => void failed.push(e));
    await pipeline.apply(ticks(1, 2));
    await pipeline.apply(ticks(3, 4));
    const next = await pipeline.apply(ticks(5, 6)).catch((e: unknown) => e);
    expect(next).toBeInstanceOf(ProjectionHandlerError);
    expect(next).toMatchObject({ fromId: 3n, toId: 4n, position: 2n });
    expect(failed).toEqual([next]);
    await pipeline.drain(); // nothing in flight: the rejected batch may be tried again (handlerRetries)
    expect(await p.read()).toEqual(replayTicks(ticks(1, 2)));
    expect(await readProjectionPosition(fixture.sql, "pipelined-fails")).toBe(2n);
    expect(p.position()).toBe(2n);
  });
});
