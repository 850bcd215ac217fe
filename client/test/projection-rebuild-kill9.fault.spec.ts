/**
 * Rebuilding processes killed with SIGKILL in the middle of a batch (no shutdown, no rollback sent, the socket closed
 * by the kernel), while a writer appends and the live projection applies, then started again: each kill leaves the
 * live model as the live projection made it, each restart resumes after what the killed one committed, and the last
 * one switches over to a model equal to a fresh replay of the log (support/tick-projection.ts counts applications,
 * so a repeat or a gap shows).
 */
import { describe, expect, it } from "vitest";
import { project } from "../src/projection.js";
import { postgresUrl, skipReason, useProjectionFixture } from "./support/projection-fixture.js";
import { logTails, startProjectionProcess, type ProjectionProcess } from "./support/projection-process.js";
import { startSteadyWriter } from "./support/steady-writer.js";
import { applyTicks, createTickTables, readTicks, replayTicks } from "./support/tick-projection.js";
import { waitFor, type Condition } from "./support/wait-for.js";

const marker = 1_000_000;

/** Waits for `condition`, checking every 2 ms (a batch takes 40); a timeout's message has `rebuilders`' logs. */
const waitWatching = (condition: Condition, what: string, rebuilders: readonly ProjectionProcess[] = []) =>
  waitFor(condition, what, { timeoutMs: 60_000, pollMs: 2, explain: () => logTails(rebuilders) });

// The locks and the kill's rollback are PostgreSQL's.
describe.skipIf(!postgresUrl)(`kill -9 of a rebuilding process${skipReason}`, () => {
  const fixture = useProjectionFixture({ poolSize: 6 });
  const { append, logOf, positionOf } = fixture;

  /** A rebuilder process of projection `crash`, its batches 20 entries of 40 ms. */
  function startRebuilder(): ProjectionProcess {
    return fixture.stopAfterAll(
      startProjectionProcess("rebuilder", {
        eventStoreUrl: fixture.store.url,
        databaseUrl: fixture.databaseUrl,
        name: "crash",
        selector: "Crash.*",
        tablePrefix: "crash_",
        batchSize: 20,
        sleepMs: 40,
        switchWithin: 100,
      }),
    );
  }

  /** The live model and position in one snapshot. */
  const liveSnapshot = () =>
    fixture.sql.begin("isolation level repeatable read", async (tx) => ({
      position: BigInt(
        (await tx<Array<{ p: string }>>`select position::text as p from eskit_projections where name = 'crash'`)[0]!.p,
      ),
      model: await readTicks(tx, (base) => `crash_${base}`),
    }));

  it("kill -9 three times mid-batch under appends, restarting each time: the live model stays the live projection's, the last run switches over to one equal to the log", async () => {
    const ids = await append("Crash", 300);
    const live = fixture.stopAfterAll(
      project({
        ...fixture.projectionOptions("crash"),
        selector: "Crash.*",
        batchSize: 20,
        setup: (tx, context) => createTickTables(tx, { table: (base) => context.table(`crash_${base}`) }),
        handle: (entries, tx, context) =>
          applyTicks(entries, tx, { ...context, table: (base) => context.table(`crash_${base}`) }),
      }),
    );
    await waitWatching(() => live.status().position === ids.at(-1), "the live projection to catch up");
    await fixture.sql`update crash_tick_totals set sum = sum + ${marker} where originator = 'Crash-0'`;
    const writer = startSteadyWriter(fixture.client, "Crash", 20);

    let midBatch = 0;
    let committed = 0n;
    let next = ids[0]!;
    for (let kill = 0; kill < 3; kill++) {
      const rebuilder = startRebuilder();
      await waitWatching(() => rebuilder.batches.length >= 2, "the rebuilder to apply batches", [rebuilder]);
      // It starts right after what the killed one committed (the first entry, the first time): nothing again,
      // nothing skipped.
      expect(rebuilder.batches[0]![0]).toBe(next);
      const seen = rebuilder.batches.length;
      await waitWatching(() => rebuilder.batches.length > seen, "the rebuilder to start a batch", [rebuilder]);
      rebuilder.kill("SIGKILL");
      await rebuilder.exited;
      committed = await positionOf("crash#rebuild");
      if (committed < rebuilder.batches.at(-1)![1]) midBatch++;
      // The live model is still the live projection's own: marked, and every entry up to its position once (the log
      // read after the model, so that it holds every entry the model can).
      const { position, model } = await liveSnapshot();
      const logNow = await logOf("Crash");
      next = logNow.find((entry) => entry.id > committed)!.id;
      const upTo = logNow.filter((entry) => entry.id <= position);
      expect(model.applied).toEqual(upTo.map((entry) => entry.id));
      expect(model.totals.find((t) => t.originator === "Crash-0")!.sum).toBeGreaterThan(marker);
    }
    // The kills land in the middle of a batch (each takes 40 ms), bar a scheduling hiccup.
    expect(midBatch).toBeGreaterThanOrEqual(2);

    const last = startRebuilder();
    expect(await last.exited).toBe(0);
    const switchedAt = last.switched()!;
    expect(last.batches[0]![0]).toBe(next);
    await writer.stop();
    const log = await logOf("Crash");
    await waitWatching(
      () => live.status().position === log.at(-1)!.id,
      "the live projection to catch up after the switch",
    );
    expect(switchedAt).toBeGreaterThan(ids.at(-1)!);
    const model = await readTicks(fixture.sql, (base) => `crash_${base}`);
    expect(model.applied.length).toBe(log.length);
    expect(model).toEqual(replayTicks(log));
    await live.stop();
  });
});
