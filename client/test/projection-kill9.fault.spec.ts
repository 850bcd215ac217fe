/**
 * Projecting processes killed with SIGKILL (no shutdown, no rollback sent, the socket closed by the kernel) in the
 * middle of a batch or anywhere else, while a writer appends, then restarted: the read model must end equal to a fresh replay of the
 * log, every entry applied once (support/tick-projection.ts counts applications, so a repeat or a gap shows). And two
 * processes started at once: one applies, the other waits, and takes over when the first is killed.
 */
import { describe, expect, it } from "vitest";
import { postgresUrl, skipReason, useProjectionFixture } from "./support/projection-fixture.js";
import { logTails, startProjectionProcess, type ProjectionProcess } from "./support/projection-process.js";
import { startSteadyWriter } from "./support/steady-writer.js";
import { readTicks, replayTicks } from "./support/tick-projection.js";
import { waitFor, type Condition } from "./support/wait-for.js";

/** Waits for `condition`, checking every 2 ms (a batch takes 40); a timeout's message has `projectors`' logs. */
const waitWatching = (condition: Condition, what: string, projectors: readonly ProjectionProcess[] = []) =>
  waitFor(condition, what, { timeoutMs: 30_000, pollMs: 2, explain: () => logTails(projectors) });

// The holder's session lock and the kill's rollback are PostgreSQL's.
describe.skipIf(!postgresUrl)(`kill -9 of projecting processes${skipReason}`, () => {
  const fixture = useProjectionFixture({ poolSize: 2 });
  const { logOf, positionOf } = fixture;

  /** A projector process of projection `name`, into tables prefixed `<name>_`, its batches 20 entries of 40 ms. */
  function startProjector(name: string, selector: string): ProjectionProcess {
    return fixture.stopAfterAll(
      startProjectionProcess("projector", {
        eventStoreUrl: fixture.store.url,
        databaseUrl: fixture.databaseUrl,
        name,
        selector,
        tablePrefix: `${name}_`,
        batchSize: 20,
        sleepMs: 40,
      }),
    );
  }

  /**
   * Kills `projector` `delayMs` after its handler starts a new batch (which takes about 40 ms: 0 kills it in the middle
   * of the batch, later delays anywhere, commits included); resolves to that batch.
   */
  async function killMidBatch(
    projector: ProjectionProcess,
    afterBatches: number,
    delayMs = 0,
  ): Promise<[bigint, bigint]> {
    await waitWatching(() => projector.batches.length >= afterBatches, "the projector to apply batches", [projector]);
    const seen = projector.batches.length;
    await waitWatching(() => projector.batches.length > seen, "the projector to start a batch", [projector]);
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    projector.kill("SIGKILL");
    await projector.exited;
    return projector.batches.at(-1)!;
  }

  it("kill -9 six times under appends, mid-batch or anywhere, restarting each time: the read model equals a replay of the log", async () => {
    const writer = startSteadyWriter(fixture.client, "Killed", 1);
    let midBatch = 0;
    for (let kill = 0; kill < 6; kill++) {
      const projector = startProjector("killed", "Killed.*");
      const [, last] = await killMidBatch(projector, 2 + kill, kill % 2 === 0 ? 0 : Math.random() * 60);
      // The batch the process was applying when it died is not committed: the kill landed in the middle of it.
      if ((await positionOf("killed")) < last) midBatch++;
    }
    const final = startProjector("killed", "Killed.*");
    await writer.stop();
    const log = await logOf("Killed");
    await waitWatching(async () => (await positionOf("killed")) === log.at(-1)!.id, "the last projector to catch up", [
      final,
    ]);
    final.kill("SIGTERM");
    expect(await final.exited).toBe(0);

    // The kills without delay (half of them) land in the middle of a batch, bar a scheduling hiccup.
    expect(midBatch).toBeGreaterThanOrEqual(2);
    const model = await readTicks(fixture.sql, (base) => `killed_${base}`);
    expect(model.applied.length).toBe(log.length);
    expect(model).toEqual(replayTicks(log));
  });

  it("two processes at once: only one applies; kill -9 of it hands the projection over to the other", async () => {
    const writer = startSteadyWriter(fixture.client, "Pair", 1);
    const a = startProjector("pair", "Pair.*");
    const b = startProjector("pair", "Pair.*");
    await waitWatching(() => a.batches.length + b.batches.length >= 8, "one of them to apply batches", [a, b]);
    const [holder, waiter] = a.batches.length > 0 ? [a, b] : [b, a];
    expect(waiter.batches).toEqual([]);

    await killMidBatch(holder, 0);
    const handedOver = await positionOf("pair");
    await waitWatching(() => waiter.batches.length >= 3, "the other process to take over", [waiter]);
    // It starts right after what the killed holder committed, not before, not after.
    expect(waiter.batches[0]![0]).toBeGreaterThan(handedOver);
    await writer.stop();
    const log = await logOf("Pair");
    expect(waiter.batches[0]![0]).toBe(log.find((entry) => entry.id > handedOver)!.id);
    await waitWatching(async () => (await positionOf("pair")) === log.at(-1)!.id, "the survivor to catch up", [waiter]);
    waiter.kill("SIGTERM");
    expect(await waiter.exited).toBe(0);
    expect(await readTicks(fixture.sql, (base) => `pair_${base}`)).toEqual(replayTicks(log));
  });
});
