/**
 * project() against a real Event Store and a real PostgreSQL for the read model: each test projects its own entity
 * type into its own tables (named through the handler's context) and compares them with a replay of the log read back
 * afterwards. The read model counts every application of an entry (see support/tick-projection.ts), so an entry
 * applied twice or skipped shows up as a difference.
 */
import { randomUUID } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import postgres from "postgres";
import { describe, expect, it } from "vitest";
import { project, ProjectionHandlerError, type PostgresProjectionOptions, type Projection } from "../src/projection.js";
import { postgresUrl, skipReason, useProjectionFixture } from "./support/projection-fixture.js";
import { startSteadyWriter } from "./support/steady-writer.js";
import { applyTicks, createTickTables, readTicks, replayTicks } from "./support/tick-projection.js";
import { waitFor } from "./support/wait-for.js";

describe.skipIf(!postgresUrl)(`project() into PostgreSQL${skipReason}`, () => {
  const fixture = useProjectionFixture({ poolSize: 6 });
  const { append, logOf } = fixture;

  /** Starts projecting `type` into tables prefixed with its name; `calls` records each handler call's ids. */
  function projectTicks(
    type: string,
    options: Partial<PostgresProjectionOptions> = {},
    calls: bigint[][] = [],
  ): Projection {
    const table = (base: string) => `${type.toLowerCase()}_${base}`;
    return fixture.stopAfterAll(
      project({
        ...fixture.projectionOptions(type),
        batchSize: 7,
        setup: (tx, context) => createTickTables(tx, { table: (base) => table(context.table(base)) }),
        handle: async (entries, tx, context) => {
          calls.push(entries.map((e) => e.id));
          await applyTicks(entries, tx, { ...context, table: (base) => table(context.table(base)) });
        },
        ...options,
      }),
    );
  }
  const readModel = (type: string) => readTicks(fixture.sql, (base) => `${type.toLowerCase()}_${base}`);
  const row = async (name: string) =>
    (
      await fixture.sql<Array<{ position: string; error: string | null; entry: string | null }>>`
        select position::text as position, last_error as error, last_error_entry_id::text as entry
        from eskit_projections where name = ${name}`
    )[0];

  it("projects the log into tables equal to a fresh replay, follows it live, and resumes after its position", async () => {
    const first = await append("Replay", 120);
    await append("Unrelated", 30);
    const last = (await append("Replay", 1))[0]!;
    const calls: bigint[][] = [];
    const projection = projectTicks("Replay", {}, calls);
    await waitFor(() => projection.status().position === last, "the projection to catch up");
    expect(await readModel("Replay")).toEqual(replayTicks(await logOf("Replay")));
    expect(calls.every((batch) => batch.length <= 7)).toBe(true);
    await waitFor(() => projection.status().lag === 0n && projection.status().head === last, "the head to be seen");
    expect(projection.status()).toMatchObject({ state: "running", position: last, applied: 121, lastError: undefined });

    const live = await append("Replay", 40);
    await waitFor(() => projection.status().position === live.at(-1), "the live entries");
    expect(await projection.stop()).toEqual({ position: live.at(-1), applied: 161 });
    expect(projection.status().state).toBe("stopped");
    expect(await readModel("Replay")).toEqual(replayTicks(await logOf("Replay")));
    expect((await row("Replay"))?.position).toBe(String(live.at(-1)));

    const whileStopped = await append("Replay", 25);
    const resumedCalls: bigint[][] = [];
    const resumed = projectTicks("Replay", {}, resumedCalls);
    await waitFor(() => resumed.status().position === whileStopped.at(-1), "the restarted projection");
    expect(resumedCalls.flat()).toEqual(whileStopped);
    expect(await readModel("Replay")).toEqual(replayTicks(await logOf("Replay")));
    expect(first.length + 1 + live.length + whileStopped.length).toBe((await logOf("Replay")).length);
    await resumed.stop();
  });

  it("runs one of two instances started at once; the other waits and takes over when the first stops", async () => {
    await append("Pair", 60);
    const callsA: bigint[][] = [];
    const callsB: bigint[][] = [];
    const a = projectTicks("Pair", {}, callsA);
    const b = projectTicks("Pair", {}, callsB);
    const last = (await append("Pair", 10)).at(-1)!;
    const holder = () => [a, b].find((p) => p.status().state === "running");
    await waitFor(() => holder()?.status().position === last, "one instance to catch up");
    const [first, second, secondCalls] = holder() === a ? [a, b, callsB] : [b, a, callsA];
    await waitFor(() => second.status().state === "waiting", "the other instance to wait");
    expect(secondCalls).toEqual([]);
    await waitFor(() => second.status().position === last, "the waiting instance to read the holder's position");

    await first.stop();
    const more = await append("Pair", 30);
    await waitFor(() => second.status().position === more.at(-1), "the second instance to take over");
    expect(second.status().state).toBe("running");
    expect(secondCalls.flat()).toEqual(more);
    expect(await readModel("Pair")).toEqual(replayTicks(await logOf("Pair")));
    await second.stop();
  });

  it("stops at the entry before a batch that fails, nothing of it committed, and records and exposes the error", async () => {
    const ids = await append("Poison", 40);
    const poison = ids[22]!;
    const calls: bigint[][] = [];
    const logged: Array<{ level: string; fields: object; message: string }> = [];
    const record = (level: string) => (fields: object, message: string) => void logged.push({ level, fields, message });
    const failing = projectTicks(
      "Poison",
      {
        handlerRetries: 1,
        logger: { info: record("info"), warn: record("warn"), error: record("error") },
        handle: async (entries, tx, context) => {
          calls.push(entries.map((e) => e.id));
          await applyTicks(entries, tx, { ...context, table: (base) => `poison_${base}` });
          if (entries.some((e) => e.id === poison)) throw new Error(`cannot project ${poison}`);
        },
      },
      calls,
    );
    const error = await failing.done.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProjectionHandlerError);
    const failed = calls.at(-1)!;
    expect(calls.at(-2)).toEqual(failed); // handlerRetries: 1
    expect(failed).toContain(poison);
    const before = ids[ids.indexOf(failed[0]!) - 1]!;
    expect(error).toMatchObject({ projection: "Poison", fromId: failed[0], toId: failed.at(-1), position: before });
    expect(await readModel("Poison")).toEqual(replayTicks((await logOf("Poison")).filter((e) => e.id <= before)));
    expect(await row("Poison")).toEqual({
      position: String(before),
      error: `cannot project ${poison}`,
      entry: String(failed[0]),
    });
    expect(logged.filter((line) => line.level === "error")).toEqual([
      {
        level: "error",
        fields: {
          projection: "Poison",
          position: String(before),
          entryId: String(failed[0]),
          toId: String(failed.at(-1)),
          err: `cannot project ${poison}`,
        },
        message: "projection stopped: a batch failed",
      },
    ]);
    expect(failing.status()).toMatchObject({ state: "failed", position: before });
    expect(failing.status().lastError).toMatchObject({
      message: `cannot project ${poison}`,
      entryId: failed[0],
      transient: false,
    });

    // Fixed, it resumes at the failed batch and ends equal to the log, its error cleared.
    const fixed = projectTicks("Poison");
    await waitFor(() => fixed.status().position === ids.at(-1), "the fixed projection");
    expect(await readModel("Poison")).toEqual(replayTicks(await logOf("Poison")));
    expect(await row("Poison")).toEqual({ position: String(ids.at(-1)), error: null, entry: null });
    await fixed.stop();
  });

  it("retries when its database connections are terminated mid-run, while a writer appends: the read model equals the log", async () => {
    // postgres.js 3.4.9 leaves a rejection unhandled when a connection dies while it reads the server's array types,
    // which it does on every (re)connection unless told not to (docs/consumers.md): this test kills that often.
    const database = postgres(fixture.databaseUrl, { max: 6, fetch_types: false, onnotice: () => {} });
    const writer = startSteadyWriter(fixture.client, "Severed", 2);
    const projection = projectTicks("Severed", {
      database,
      batchSize: 5,
      // postgres.js can lose a statement whose connection dies at the wrong moment: the projection gives up on it
      // after this long and tries again (without it this test hung in about one run in ten).
      databaseTimeoutMs: 1000,
      handle: async (entries, tx, context) => {
        await applyTicks(entries, tx, { ...context, table: (base) => `severed_${base}` });
        await tx`select pg_sleep(0.01)`;
      },
    });
    const admin = postgres(postgresUrl!, { max: 1, onnotice: () => {} });
    const databaseName = new URL(fixture.databaseUrl).pathname.slice(1);
    let terminated = 0;
    try {
      for (let round = 0; round < 8; round++) {
        await new Promise((resolve) => setTimeout(resolve, 150 + Math.random() * 150));
        const killed = await admin`
          select pg_terminate_backend(pid) as ok from pg_stat_activity
          where datname = ${databaseName} and pid <> pg_backend_pid() and backend_type = 'client backend'`;
        terminated += killed.length;
      }
    } finally {
      await admin.end({ timeout: 5 });
    }
    await writer.stop();
    const log = await logOf("Severed");
    await waitFor(() => projection.status().position === log.at(-1)!.id, "the projection to catch up", {
      timeoutMs: 30_000,
    });
    expect(terminated).toBeGreaterThan(0);
    expect(projection.status().retries).toBeGreaterThan(0);
    expect(projection.status().state).toBe("running");
    expect(await readModel("Severed")).toEqual(replayTicks(log));
    await projection.stop();
    await database.end({ timeout: 5 });
  }, 60_000);

  it("gives up on its own statements left unanswered past databaseTimeoutMs and tries again, each entry applied once", async () => {
    // A row lock held by another session keeps the projection's statements waiting for an answer, as a connection
    // postgres.js lost would (see src/database-deadline.ts), but here they do get their answer in the end: the late
    // transactions must then apply nothing, so that each entry goes through the handler once.
    const stalling = postgres(fixture.databaseUrl, { max: 1, onnotice: () => {} });
    const holdRow = (during: () => Promise<unknown>) =>
      stalling.begin(async (tx) => {
        await tx`select 1 from eskit_projections where name = 'Stalled' for update`;
        await during();
      });
    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    try {
      const first = await append("Stalled", 20);
      const calls: bigint[][] = [];
      const projection = projectTicks("Stalled", { databaseTimeoutMs: 300 }, calls);
      await waitFor(() => projection.status().position === first.at(-1), "the projection to catch up");
      expect(projection.status().retries).toBe(0);

      // A batch's fencing check waits for the row: each attempt is given up after 300 ms.
      let stalled: bigint[] = [];
      await holdRow(async () => {
        stalled = await append("Stalled", 10);
        await waitFor(() => projection.status().retries >= 2, "two attempts given up on");
      });
      await waitFor(() => projection.status().position === stalled.at(-1), "the projection once the row is free");
      // Given up on by the client's timer or by PostgreSQL's lock_timeout, whichever comes first.
      expect(projection.status().lastError).toMatchObject({
        message: expect.stringMatching(
          /the fencing check of a batch: no answer from the database in 300 ms|canceling statement due to lock timeout/,
        ),
        transient: true,
      });
      await projection.stop();

      // Claiming the row on start waits for it too.
      const later = projectTicks("Stalled", { databaseTimeoutMs: 300 }, calls);
      let more: bigint[] = [];
      await holdRow(async () => {
        more = await append("Stalled", 5);
        await waitFor(() => later.status().retries >= 2, "two claims given up on");
        expect(later.status().state).toBe("starting");
      });
      await waitFor(() => later.status().position === more.at(-1), "the restarted projection once the row is free");
      expect(later.status().lastError?.message).toMatch(
        /claiming its row: no answer from the database in 300 ms|canceling statement due to lock timeout/,
      );
      // The late transactions applied nothing: each entry went through the handler once, in order.
      await pause(500);
      expect(calls.flat()).toEqual([...first, ...stalled, ...more]);
      expect(await readModel("Stalled")).toEqual(replayTicks(await logOf("Stalled")));
      await later.stop();
    } finally {
      await stalling.end({ timeout: 5 });
    }
  });

  it("fails at once on a selector the Event Store refuses", async () => {
    const projection = projectTicks("Refused", { selector: "not a selector" });
    const error = await projection.done.catch((e: unknown) => e);
    expect(ConnectError.from(error).code).toBe(Code.InvalidArgument);
    expect(projection.status()).toMatchObject({ state: "failed", lastError: { entryId: 0n, transient: false } });
  });

  it("refuses impossible settings before connecting", () => {
    expect(() => projectTicks(randomUUID(), { batchSize: 0 })).toThrow(RangeError);
    expect(() => projectTicks("", {})).toThrow(/name must be 1–255 characters/);
  });
});
