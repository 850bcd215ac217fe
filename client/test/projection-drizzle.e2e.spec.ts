/**
 * projectWithDrizzle against a real Event Store and PostgreSQL: the handler writes through the Drizzle transaction it
 * is given (a nested `tx.transaction` too), and the projection's position commits or rolls back with those writes.
 */
import type { AppLogEntry } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import { sql as dsql } from "drizzle-orm";
import { bigint, integer, pgTable, text } from "drizzle-orm/pg-core";
import { drizzle, type PostgresJsDatabase } from "drizzle-orm/postgres-js";
import type { Sql } from "postgres";
import { beforeAll, describe, expect, it } from "vitest";
import { ProjectionHandlerError } from "../src/projection.js";
import {
  projectWithDrizzle,
  rebuildWithDrizzle,
  type DrizzleProjectionTransaction,
} from "../src/projection-drizzle.js";
import { postgresUrl, skipReason, useProjectionFixture } from "./support/projection-fixture.js";
import { readTicks, replayTicks, tickTotals } from "./support/tick-projection.js";
import { waitFor } from "./support/wait-for.js";

/**
 * The tick read model (support/tick-projection.ts) as Drizzle tables, for projection `name`; `table` names them as a
 * handler's `context.table()` does (a rebuild's fresh tables), the live names by default.
 */
function tickTables(name: string, table: (base: string) => string = (base) => base) {
  return {
    applied: pgTable(table(`${name}_applied`), {
      logId: bigint("log_id", { mode: "bigint" }).notNull(),
      originator: text("originator").notNull(),
    }),
    totals: pgTable(table(`${name}_tick_totals`), {
      originator: text("originator").primaryKey(),
      events: integer("events").notNull(),
      sum: bigint("sum", { mode: "number" }).notNull(),
    }),
  };
}

async function applyWithDrizzle(
  tables: ReturnType<typeof tickTables>,
  entries: AppLogEntry[],
  tx: DrizzleProjectionTransaction,
): Promise<void> {
  await tx
    .insert(tables.applied)
    .values(entries.map((e) => ({ logId: e.id, originator: e.event?.originator?.id ?? "" })));
  // A nested transaction (a savepoint) of the projection's transaction.
  await tx.transaction(async (nested) => {
    await nested
      .insert(tables.totals)
      .values(tickTotals(entries))
      .onConflictDoUpdate({
        target: tables.totals.originator,
        set: {
          events: dsql`${tables.totals.events} + excluded.events`,
          sum: dsql`${tables.totals.sum} + excluded.sum`,
        },
      });
  });
}

async function createWithDrizzle(
  tables: ReturnType<typeof tickTables>,
  tx: DrizzleProjectionTransaction,
): Promise<void> {
  await tx.execute(
    dsql`create table if not exists ${tables.applied} (log_id bigint not null, originator text not null)`,
  );
  await tx.execute(
    dsql`create table if not exists ${tables.totals} (originator text primary key, events integer not null, sum bigint not null)`,
  );
}

describe.skipIf(!postgresUrl)(`projectWithDrizzle${skipReason}`, () => {
  const fixture = useProjectionFixture({ poolSize: 4 });
  const { logOf, positionOf } = fixture;
  let db: PostgresJsDatabase & { $client: Sql };
  beforeAll(() => {
    db = drizzle(fixture.sql);
  });

  /** Appends `count` events of `type`, each on an originator of its own, payload `{ n }` from 1. */
  async function append(type: string, count: number): Promise<bigint[]> {
    return fixture.client.appendEvents(
      Array.from({ length: count }, (_, i) => ({
        originatorId: `${type}-${i}`,
        version: 1n,
        eventType: `${type}.Ticked`,
        payload: { n: i + 1 },
      })),
    );
  }

  function projectTicks(
    name: string,
    handle?: (entries: AppLogEntry[], tx: DrizzleProjectionTransaction) => Promise<void>,
  ) {
    const tables = tickTables(name);
    return fixture.stopAfterAll(
      projectWithDrizzle({
        transport: fixture.transport,
        database: db,
        name,
        selector: `${name}.*`,
        batchSize: 6,
        lockRetryMs: 50,
        statusIntervalMs: 100,
        setup: (tx) => createWithDrizzle(tables, tx),
        handle: handle ?? ((entries, tx) => applyWithDrizzle(tables, entries, tx)),
      }),
    );
  }

  it("writes through Drizzle's transaction: the read model equals a replay, the position commits with it", async () => {
    const ids = await append("Drizzled", 45);
    const projection = projectTicks("Drizzled");
    await waitFor(() => projection.status().position === ids.at(-1), "the projection to catch up");
    expect(await readTicks(fixture.sql, (base) => `Drizzled_${base}`)).toEqual(replayTicks(await logOf("Drizzled")));
    expect(await positionOf("Drizzled")).toBe(ids.at(-1));
    expect(projection.status()).toMatchObject({ state: "running", applied: 45 });
    await projection.stop();
  });

  it("rolls the Drizzle writes back with the position when the handler throws", async () => {
    const ids = await append("DrizzleFails", 20);
    const tables = tickTables("DrizzleFails");
    const projection = projectTicks("DrizzleFails", async (entries, tx) => {
      await applyWithDrizzle(tables, entries, tx);
      if (entries.some((e) => e.id === ids[14])) throw new Error("poisoned");
    });
    const error = (await projection.done.catch((e: unknown) => e)) as ProjectionHandlerError;
    expect(error).toBeInstanceOf(ProjectionHandlerError);
    expect(error.fromId).toBeLessThanOrEqual(ids[14]!);
    expect(error.toId).toBeGreaterThanOrEqual(ids[14]!);
    expect(await positionOf("DrizzleFails")).toBe(error.position);
    const committed = (await logOf("DrizzleFails")).filter((e) => e.id <= error.position);
    expect(committed.at(-1)?.id).toBe(ids[ids.indexOf(error.fromId) - 1]);
    expect(await readTicks(fixture.sql, (base) => `DrizzleFails_${base}`)).toEqual(replayTicks(committed));
  });

  it("rebuilds with Drizzle: a handler that makes its tables from context.table() fills the fresh ones, which go live", async () => {
    const ids = await append("Redrizzled", 30);
    const projection = projectTicks("Redrizzled");
    await waitFor(() => projection.status().position === ids.at(-1), "the projection to catch up");
    await fixture.sql`update ${fixture.sql("Redrizzled_tick_totals")} set sum = sum + 1000000`;
    const calls: bigint[][] = [];
    const rebuilding = rebuildWithDrizzle({
      transport: fixture.transport,
      database: db,
      name: "Redrizzled",
      selector: "Redrizzled.*",
      tables: ["Redrizzled_applied", "Redrizzled_tick_totals"],
      batchSize: 6,
      switchWithin: 6,
      statusIntervalMs: 100,
      setup: (tx, context) => createWithDrizzle(tickTables("Redrizzled", context.table), tx),
      handle: async (entries, tx, context) => {
        calls.push(entries.map((e) => e.id));
        await applyWithDrizzle(tickTables("Redrizzled", context.table), entries, tx);
      },
    });
    fixture.stopAfterAll(rebuilding);
    expect(await rebuilding.done).toMatchObject({ switched: true, position: ids.at(-1), applied: 30 });
    expect(calls.flat()).toEqual(ids);
    // The live projection's static tables are the rebuilt ones now, and it goes on writing them.
    const more = await fixture.client.appendEvents(
      [1, 2, 3].map((n) => ({
        originatorId: `Redrizzled-more-${n}`,
        version: 1n,
        eventType: "Redrizzled.Ticked",
        payload: { n },
      })),
    );
    await waitFor(() => projection.status().position === more.at(-1), "the live projection to go on");
    expect(await readTicks(fixture.sql, (base) => `Redrizzled_${base}`)).toEqual(
      replayTicks(await logOf("Redrizzled")),
    );
    await projection.stop();
  });
});
