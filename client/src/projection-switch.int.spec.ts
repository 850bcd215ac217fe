import { create } from "@bufbuild/protobuf";
import { AppLogEntrySchema, type AppLogEntry } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import type { TransactionSql } from "postgres";
import { describe, expect, it } from "vitest";
import { useProjectionDatabase } from "../test/support/projection-database.js";
import { waitFor } from "../test/support/wait-for.js";
import { applyTicks, createTickTables, readTicks, replayTicks } from "../test/support/tick-projection.js";
import { applyBatch, type BatchRound } from "./projection-batch.js";
import { LostHoldError } from "./projection-errors.js";
import { openHolderLock, type Hold } from "./projection-lock.js";
import type { ProjectionContext } from "./projection-options.js";
import { resolveRebuildOptions } from "./projection-rebuild-options.js";
import { switchOver, type SwitchOver } from "./projection-switch.js";
import { claimProjectionRow, readProjectionPosition } from "./projection-table.js";

// Row locks, advisory locks and renames between concurrent transactions: PostgreSQL itself.
const postgresUrl = process.env["DATABASE_URL"];
const skipReason = postgresUrl ? "" : " (skipped: needs PostgreSQL, set DATABASE_URL)";

function tick(id: bigint): AppLogEntry {
  return create(AppLogEntrySchema, {
    id,
    event: {
      originator: { id: `o${id % 3n}`, version: id },
      eventType: "Tick.Ticked",
      payload: JSON.stringify({ n: 1 }),
    },
  });
}
const ticks = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => tick(BigInt(from + i)));

describe.skipIf(!postgresUrl)(`the switch-over of a rebuild${skipReason}`, () => {
  const fixture = useProjectionDatabase(postgresUrl, 6);
  const { db, locks } = fixture;

  async function hold(name: string): Promise<Hold> {
    await claimProjectionRow(fixture.sql, name);
    const lock = openHolderLock(fixture.sql, name, 20, 10_000);
    locks.push(lock);
    return (await lock.acquire(new AbortController().signal, () => {})) as Hold;
  }

  /** A round of batches of projection `name` into the tables `table` names, at `position`. */
  function round(name: string, held: Hold, table: (base: string) => string, position: bigint, calls: bigint[][]) {
    const r: BatchRound<TransactionSql> = {
      name,
      version: "",
      context: { name: "live", table },
      db,
      hold: held,
      handle: async (entries, tx, context: ProjectionContext) => {
        calls.push(entries.map((e) => e.id));
        await applyTicks(entries, tx, context);
      },
      backoff: { initialDelayMs: 1, maxDelayMs: 5 },
      timeoutMs: 10_000,
      stop: new AbortController().signal,
      position: () => position,
      committed: (p) => void (position = p),
      retrying: () => {},
      lose: () => {},
    };
    return r;
  }

  /**
   * Projection `live` at entry 5 in its live tables, and its rebuild at entry 3 in the fresh ones; `remainder` is what
   * the log holds after the rebuild's position.
   */
  async function rebuilding(prefix: string, remainder: SwitchOver<TransactionSql>["remainder"]) {
    const live = `${prefix}`;
    const r = resolveRebuildOptions({
      name: live,
      transport: {} as never,
      handle: () => {},
      tables: [`${prefix}_applied`, `${prefix}_tick_totals`],
    });
    const liveTable = (base: string) => `${prefix}_${base}`;
    const freshTable = (base: string) => r.freshName(`${prefix}_${base}`);
    await createTickTables(fixture.sql, { table: liveTable });
    await createTickTables(fixture.sql, { table: freshTable });
    const liveHold = await hold(live);
    const liveCalls: bigint[][] = [];
    const liveRound = round(live, liveHold, liveTable, 0n, liveCalls);
    await applyBatch(liveRound, ticks(1, 5));
    const rebuildHold = await hold(r.o.name);
    const rebuildCalls: bigint[][] = [];
    const rebuildRound = round(r.o.name, rebuildHold, freshTable, 0n, rebuildCalls);
    await applyBatch(rebuildRound, ticks(1, 3));
    const s: SwitchOver<TransactionSql> = {
      live,
      rebuild: r.o.name,
      version: "",
      db,
      hold: rebuildHold,
      handle: rebuildRound.handle,
      context: { name: live, table: freshTable },
      batchSize: 2,
      tables: r.tables,
      lockTimeoutMs: 1000,
      remainder,
    };
    return { s, liveRound, liveCalls, rebuildCalls, read: () => readTicks(fixture.sql, liveTable) };
  }

  const lockWaiters = async () =>
    (
      await fixture.sql<Array<{ n: number }>>`
        select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()`
    )[0]!.n;

  it("applies the rest of the log, swaps the tables and moves the live row; a live batch waiting on the row applies nothing", async () => {
    let waiting: Promise<unknown> | undefined;
    const t = await rebuilding("waits", async function* () {
      // The switch-over holds the live row now: a live batch that starts waits for it.
      waiting = applyBatch(t.liveRound, ticks(6, 7)).catch((e: unknown) => e);
      await waitFor(async () => (await lockWaiters()) === 1, "the live batch to wait for the row");
      yield ticks(4, 6);
      yield ticks(7, 8);
    });
    expect(await switchOver(t.s)).toEqual({ position: 8n, livePosition: 5n, applied: 5 });
    expect(await waiting).toBeInstanceOf(LostHoldError);
    expect(t.liveCalls).toEqual([[1n, 2n, 3n, 4n, 5n]]);
    // In batches of two through the rebuild's handler, after the three the rebuild had applied.
    expect(t.rebuildCalls).toEqual([[1n, 2n, 3n], [4n, 5n], [6n], [7n, 8n]]);
    expect(await t.read()).toEqual(replayTicks(ticks(1, 8)));
    expect(await readProjectionPosition(fixture.sql, "waits")).toBe(8n);
    expect(await fixture.sql`select name from eskit_projections where name like 'waits%' order by name`).toEqual([
      { name: "waits" },
    ]);
    // The live projection goes on from there, on the new tables.
    t.liveRound.committed(8n, 0);
    await applyBatch(t.liveRound, ticks(9, 9));
    expect(await t.read()).toEqual(replayTicks(ticks(1, 9)));
  });

  it("waits for a live batch that is committing, then takes the live position past it, the old tables dropped", async () => {
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    const t = await rebuilding("commits", async function* () {
      yield ticks(4, 8);
    });
    const slow = {
      ...t.liveRound,
      handle: async (entries: AppLogEntry[], tx: TransactionSql, context: ProjectionContext) => {
        await t.liveRound.handle(entries, tx, context);
        await released;
      },
    };
    const committing = applyBatch(slow, ticks(6, 7));
    await waitFor(() => t.liveCalls.length === 2, "the live batch to be applied");
    const switching = switchOver(t.s);
    await waitFor(async () => (await lockWaiters()) === 1, "the switch-over to wait for the row");
    release();
    await committing;
    expect(await switching).toEqual({ position: 8n, livePosition: 7n, applied: 5 });
    expect(await t.read()).toEqual(replayTicks(ticks(1, 8)));
    expect(await readProjectionPosition(fixture.sql, "commits")).toBe(8n);
  });

  it("says gone once its row is gone (a switch-over whose answer was lost), and fences out a rebuild that lost its lock", async () => {
    const t = await rebuilding("fenced", async function* () {
      yield ticks(4, 5);
    });
    await t.s.hold.release();
    await expect(switchOver(t.s)).rejects.toBeInstanceOf(LostHoldError);
    expect(await t.read()).toEqual(replayTicks(ticks(1, 5)));
    await fixture.sql`delete from eskit_projections where name = 'fenced#rebuild'`;
    expect(await switchOver(t.s)).toBe("gone");
    expect(await readProjectionPosition(fixture.sql, "fenced")).toBe(5n);
  });
});
