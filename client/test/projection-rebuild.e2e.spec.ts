/**
 * rebuild() against a real Event Store and a real PostgreSQL, beside a live projection of the same name: each test
 * projects its own entity type into its own tick tables (support/tick-projection.ts, where an entry applied twice or
 * skipped shows), marks the live model so that a reader can tell it from the rebuilt one, and compares the model with
 * a replay of the log read back afterwards.
 */
import type { AppLogEntry } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import postgres, { type ISql } from "postgres";
import { describe, expect, it } from "vitest";
import {
  project,
  ProjectionHandlerError,
  rebuild,
  type PostgresProjectionOptions,
  type PostgresRebuildOptions,
  type ProjectionContext,
  type Rebuild,
  type RebuildStatus,
} from "../src/projection.js";
import { markedRuns, startModelReader, unsoundObservations } from "./support/model-reader.js";
import { postgresUrl, skipReason, useProjectionFixture } from "./support/projection-fixture.js";
import { startSteadyWriter } from "./support/steady-writer.js";
import { addTickTotals, applyTicks, createTickTables, readTicks, replayTicks } from "./support/tick-projection.js";
import { waitFor } from "./support/wait-for.js";

/** Added to a total of the live model before a rebuild: a model with such a total is the old one. */
const marker = 1_000_000;
/** How long each wait may take: a rebuild beside a live projection and a writer takes its time on a loaded machine. */
const patience = { timeoutMs: 30_000 };

/** The tick model's tables of entity type `type`, named through the handler's context as rebuild() needs. */
function tickNames(type: string) {
  const prefix = type.toLowerCase();
  return {
    tables: [`${prefix}_applied`, `${prefix}_tick_totals`],
    through: (context: Pick<ProjectionContext, "table">) => (base: string) => context.table(`${prefix}_${base}`),
    live: (base: string) => `${prefix}_${base}`,
  };
}

// Renames under readers' locks are PostgreSQL's.
describe.skipIf(!postgresUrl)(`rebuild() of a projection into PostgreSQL${skipReason}`, () => {
  const fixture = useProjectionFixture({ poolSize: 8 });
  const { append, logOf, positionOf } = fixture;

  /** The live projection of `type`'s ticks; `calls` records each handler call's ids. */
  function projectTicks(type: string, calls: bigint[][] = [], options: Partial<PostgresProjectionOptions> = {}) {
    const names = tickNames(type);
    const projection = project({
      ...fixture.projectionOptions(type),
      batchSize: 7,
      setup: (tx, context) => createTickTables(tx, { table: names.through(context) }),
      handle: async (entries, tx, context) => {
        calls.push(entries.map((e) => e.id));
        await applyTicks(entries, tx, { ...context, table: names.through(context) });
      },
      ...options,
    });
    return fixture.stopAfterAll(projection);
  }

  /**
   * A rebuild of `type`'s ticks whose handler takes `sleepMs` more per batch; `calls` records each handler call's ids.
   * It switches over once at most 10 entries are left, unless told otherwise.
   */
  function rebuildTicks(
    type: string,
    calls: bigint[][] = [],
    options: Partial<PostgresRebuildOptions> = {},
    sleepMs = 5,
  ): Rebuild {
    const names = tickNames(type);
    const rebuilding = rebuild({
      ...fixture.projectionOptions(type),
      tables: names.tables,
      batchSize: 10,
      switchWithin: 10,
      setup: (tx, context) => createTickTables(tx, { table: names.through(context) }),
      handle: async (entries, tx, context) => {
        calls.push(entries.map((e) => e.id));
        await applyTicks(entries, tx, { ...context, table: names.through(context) });
        if (sleepMs > 0) await tx`select pg_sleep(${sleepMs / 1000})`;
      },
      ...options,
    });
    return fixture.stopAfterAll(rebuilding);
  }

  const row = async (name: string) =>
    (
      await fixture.sql<Array<{ position: string; version: string }>>`
        select position::text as position, version from eskit_projections where name = ${name}`
    )[0];
  /** Marks the live model: one total moved by {@link marker}, so that readers can tell it from a rebuilt one. */
  const mark = (type: string) => {
    const { sql } = fixture;
    return sql`update ${sql(tickNames(type).live("tick_totals"))} set sum = sum + ${marker}
      where originator = (select min(originator) from ${sql(tickNames(type).live("tick_totals"))})`;
  };

  it("rebuilds under appends while the live projection applies: readers see the old model, then the complete new one, which equals the log", async () => {
    const names = tickNames("Busy");
    await append("Busy", 250);
    const liveCalls: bigint[][] = [];
    const live = projectTicks("Busy", liveCalls);
    const preloaded = (await logOf("Busy")).at(-1)!.id;
    await waitFor(() => live.status().position === preloaded, "the live projection to catch up", patience);
    await mark("Busy");
    const writer = startSteadyWriter(fixture.client, "Busy", 20);
    const reader = startModelReader(fixture.databaseUrl, "Busy", names.live, marker);
    await waitFor(
      () => reader.observations.filter((o) => o.position > preloaded).length >= 5,
      "the reader to read the writer's entries in the live model",
      patience,
    );

    const progress: RebuildStatus[] = [];
    const logged: Array<{ fields: Record<string, unknown>; message: string }> = [];
    const record = (fields: object, message: string) => void logged.push({ fields: { ...fields }, message });
    const calls: bigint[][] = [];
    const rebuilding = rebuildTicks("Busy", calls, {
      onProgress: (status) => void progress.push(status),
      logger: { info: record, warn: record, error: record },
      // The writer's entries come one by one, a batch each: the rebuild trails it by a few dozen.
      switchWithin: 100,
      // Progress is logged every interval: short enough for several lines however fast the replay goes (a few
      // hundred ms on a quiet machine, where 100 ms gave two).
      statusIntervalMs: 20,
    });
    await waitFor(() => rebuilding.status().phase === "replaying", "the rebuild to replay", patience);
    const summary = await rebuilding.done;
    expect(summary.switched).toBe(true);
    // The live projection goes on, on the new tables, from where the switch-over left it.
    await waitFor(
      () => liveCalls.some((batch) => batch[0]! > summary.position),
      "the live projection to apply after the switch",
      patience,
    );
    await writer.stop();
    const log = await logOf("Busy");
    await waitFor(
      () => live.status().position === log.at(-1)!.id,
      "the live projection to catch up with the log",
      patience,
    );
    await reader.stop();
    await live.stop();

    // Every entry once, none skipped, and none of the old model's mark: the tables were rebuilt from the log.
    expect(await readTicks(fixture.sql, names.live)).toEqual(replayTicks(log));
    // The rebuild applied each entry up to the switch-over once, its last batches inside the switch-over itself.
    expect(calls.flat()).toEqual(log.filter((e) => e.id <= summary.position).map((e) => e.id));
    expect(summary.applied).toBe(calls.flat().length);
    expect(rebuilding.status()).toMatchObject({ phase: "switched", state: "stopped", position: summary.position });
    expect(await row("Busy#rebuild")).toBeUndefined();
    expect(await positionOf("Busy")).toBe(log.at(-1)!.id);

    // Readers saw a sound model at every read: the old one, then the new one complete, switched over once.
    expect(reader.errors).toEqual([]);
    expect(unsoundObservations(reader.observations, log)).toEqual([]);
    expect(markedRuns(reader.observations)).toEqual([true, false]);
    const lastOld = reader.observations.filter((o) => o.marked).at(-1)!;
    expect(lastOld.position).toBeGreaterThan(preloaded);
    expect(reader.observations.filter((o) => o.marked).length).toBeGreaterThan(5);

    // Progress: replaying at a measured pace with an ETA, then switched.
    const replaying = progress.filter((s) => s.phase === "replaying");
    expect(replaying.some((s) => s.entriesPerSecond > 0 && s.etaSeconds !== undefined && s.etaSeconds >= 0)).toBe(true);
    expect(replaying.every((s) => s.head >= s.position && s.name === "Busy#rebuild")).toBe(true);
    expect(progress.at(-1)).toMatchObject({ phase: "switched", position: summary.position });
    // Logged as it goes, for an operator: the pace and the time left, then the switch-over.
    const lines = logged.filter((line) => line.message === "projection: rebuilding");
    expect(lines.length).toBeGreaterThan(2);
    expect(lines.some((line) => (line.fields["entriesPerSecond"] as number) > 0)).toBe(true);
    expect(lines.every((line) => line.fields["projection"] === "Busy#rebuild" && "etaSeconds" in line.fields)).toBe(
      true,
    );
    expect(logged.find((line) => line.message.startsWith("projection: rebuild switched over"))?.fields).toMatchObject({
      projection: "Busy#rebuild",
      live: "Busy",
      position: String(summary.position),
      applied: summary.applied,
    });
  });

  it("changes the handler and the tables' shape: instances of the old version stop at the switch-over, those of the new one take over", async () => {
    const names = tickNames("Shape");
    await append("Shape", 120);
    const oldCalls: bigint[][] = [];
    const old = projectTicks("Shape", oldCalls, { version: "1" });
    const preloaded = (await logOf("Shape")).at(-1)!.id;
    await waitFor(() => old.status().position === preloaded, "the live projection to catch up", patience);
    const writer = startSteadyWriter(fixture.client, "Shape", 20);

    // Version 2: `applied` gains a column the old handler does not write, and which may not be null.
    const setupV2 = async (tx: ISql, context: Pick<ProjectionContext, "table">) => {
      const table = names.through(context);
      await tx`create table if not exists ${tx(table("applied"))} (log_id bigint not null, originator text not null, kind text not null)`;
      await createTickTables(tx, { table });
    };
    const handleV2 = async (entries: AppLogEntry[], tx: ISql, context: ProjectionContext) => {
      const table = names.through(context);
      const rows = entries.map((e) => ({
        log_id: String(e.id),
        originator: e.event!.originator!.id,
        kind: e.event!.eventType,
      }));
      await tx`insert into ${tx(table("applied"))} ${tx(rows, "log_id", "originator", "kind")}`;
      await addTickTotals(entries, tx, { table });
    };
    const v2Options = { version: "2", setup: setupV2 };
    // Deployed before the rebuild: it waits, as the row is still at version 1.
    const newCalls: bigint[][] = [];
    const deployed = projectTicks("Shape", newCalls, {
      ...v2Options,
      handle: async (entries, tx, context) => {
        newCalls.push(entries.map((e) => e.id));
        await handleV2(entries, tx, context);
      },
    });
    const reader = postgres(fixture.databaseUrl, { max: 1, onnotice: () => {} });
    const readErrors: unknown[] = [];
    const shapes: string[] = [];
    let reading = true;
    const readLoop = (async () => {
      while (reading) {
        // `select *` as a prepared statement, whose result changes shape at the switch-over.
        await reader`select * from ${reader(names.live("applied"))} order by log_id desc limit 1`.then(
          ([last]) => {
            const shape = Object.keys(last ?? {}).join(",");
            if (shapes.at(-1) !== shape) shapes.push(shape);
          },
          (e: unknown) => readErrors.push(e),
        );
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    await waitFor(() => deployed.status().state === "waiting", "the new version's instance to wait", patience);
    expect(newCalls).toEqual([]);

    const rebuilding = rebuildTicks("Shape", [], {
      ...v2Options,
      handle: handleV2,
      switchWithin: 100,
    });
    const summary = await rebuilding.done;
    expect(summary.switched).toBe(true);
    await waitFor(() => newCalls.length >= 3, "the new version's instance to take over", patience);
    await writer.stop();
    const log = await logOf("Shape");
    await waitFor(
      () => deployed.status().position === log.at(-1)!.id,
      "the new version to catch up with the log",
      patience,
    );
    reading = false;
    await readLoop;
    await reader.end({ timeout: 5 });

    expect(await row("Shape")).toEqual({ position: String(log.at(-1)!.id), version: "2" });
    // The old version applied nothing after the switch-over, and now waits; the new one applied only after it.
    expect(oldCalls.flat().every((id) => id <= summary.position)).toBe(true);
    expect(old.status().state).toBe("waiting");
    expect(newCalls.flat()).toEqual(log.filter((e) => e.id > summary.position).map((e) => e.id));
    // The new shape, every entry once.
    const kinds = await fixture.sql<Array<{ id: string; kind: string }>>`
      select log_id::text as id, kind from ${fixture.sql(names.live("applied"))} order by log_id`;
    expect(kinds).toEqual(log.map((e) => ({ id: String(e.id), kind: "Shape.Ticked" })));
    expect(await readTicks(fixture.sql, names.live)).toEqual(replayTicks(log));
    // A reader saw the old shape, then the new one, and never an error.
    expect(readErrors).toEqual([]);
    expect(shapes).toEqual(["log_id,originator", "log_id,originator,kind"]);
    await old.stop();
    await deployed.stop();
  });

  it("stopped half-way, leaves the live model and position as they were; run again, it resumes, or starts over when told", async () => {
    const names = tickNames("Halt");
    const ids = await append("Halt", 150);
    const live = projectTicks("Halt");
    await waitFor(() => live.status().position === ids.at(-1), "the live projection to catch up", patience);
    await live.stop();
    await mark("Halt");
    const before = await readTicks(fixture.sql, names.live);
    const fresh = (base: string) => `${names.live(base)}__rebuild`;

    const firstCalls: bigint[][] = [];
    const first = rebuildTicks("Halt", firstCalls);
    await waitFor(() => firstCalls.length >= 4, "the rebuild to apply batches", patience);
    const stopped = await first.stop();
    expect(stopped.switched).toBe(false);
    expect(first.status().phase).toBe("stopped");
    const halfway = await positionOf("Halt#rebuild");
    expect(halfway).toBe(stopped.position);
    expect(halfway).toBeLessThan(ids.at(-1)!);
    // The live model, its position and version untouched; the fresh tables hold exactly what the rebuild committed.
    expect(await readTicks(fixture.sql, names.live)).toEqual(before);
    expect(await row("Halt")).toEqual({ position: String(ids.at(-1)), version: "" });
    expect(await readTicks(fixture.sql, fresh)).toEqual(
      replayTicks((await logOf("Halt")).filter((e) => e.id <= halfway)),
    );

    const resumedCalls: bigint[][] = [];
    const resumed = rebuildTicks("Halt", resumedCalls);
    await waitFor(() => resumedCalls.length >= 2, "the resumed rebuild to apply batches", patience);
    await resumed.stop();
    expect(resumedCalls[0]![0]).toBe(ids.find((id) => id > halfway));
    expect(await readTicks(fixture.sql, names.live)).toEqual(before);

    const overCalls: bigint[][] = [];
    const over = rebuildTicks("Halt", overCalls, { startOver: true }, 0);
    const summary = await over.done;
    expect(summary.switched).toBe(true);
    expect(overCalls.flat()).toEqual(ids);
    expect(await readTicks(fixture.sql, names.live)).toEqual(replayTicks(await logOf("Halt")));
    expect(await row("Halt")).toEqual({ position: String(ids.at(-1)), version: "" });
  });

  it("fails on a handler error with the entry it stopped at, leaving the live model; fixed, it switches over", async () => {
    const names = tickNames("Broken");
    const ids = await append("Broken", 60);
    const live = projectTicks("Broken");
    await waitFor(() => live.status().position === ids.at(-1), "the live projection to catch up", patience);
    await mark("Broken");
    const before = await readTicks(fixture.sql, names.live);
    const poison = ids[33]!;
    const calls: bigint[][] = [];
    const failing = rebuildTicks("Broken", calls, {
      handle: async (entries, tx, context) => {
        calls.push(entries.map((e) => e.id));
        await applyTicks(entries, tx, { ...context, table: names.through(context) });
        if (entries.some((e) => e.id === poison)) throw new Error(`cannot rebuild ${poison}`);
      },
    });
    const error = await failing.done.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProjectionHandlerError);
    const failed = calls.at(-1)!;
    expect(failed).toContain(poison);
    const failedAfter = ids[ids.indexOf(failed[0]!) - 1]!;
    expect(error).toMatchObject({ projection: "Broken#rebuild", fromId: failed[0], position: failedAfter });
    expect(failing.status()).toMatchObject({ phase: "failed", position: failedAfter });
    expect(await readTicks(fixture.sql, names.live)).toEqual(before);
    expect(live.status()).toMatchObject({ state: "running", position: ids.at(-1) });

    const fixedCalls: bigint[][] = [];
    const fixed = rebuildTicks("Broken", fixedCalls);
    expect((await fixed.done).switched).toBe(true);
    expect(fixedCalls[0]![0]).toBe(failed[0]);
    expect(await readTicks(fixture.sql, names.live)).toEqual(replayTicks(await logOf("Broken")));
    await live.stop();
  });
});
