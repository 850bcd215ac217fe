import postgres, { type ISql, type Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dropDatabase, freshDatabaseUrl } from "@eskit/test-kit/event-store.js";
import { isTransientDatabaseError } from "./database-error.js";
import { transactionOn } from "./postgres-transaction.js";
import { resolveRebuildOptions, type RebuildTable } from "./projection-rebuild-options.js";
import { dropFreshTables, freshTablesExist, swapTables } from "./projection-swap-tables.js";

// Locks, catalogs and the renaming of relations under readers: PostgreSQL itself.
const postgresUrl = process.env["DATABASE_URL"];
const skipReason = postgresUrl ? "" : " (skipped: needs PostgreSQL, set DATABASE_URL)";

/** The tables a rebuild of `tables` would fill, as rebuild() names them. */
function rebuildTables(tables: string[]): { tables: readonly RebuildTable[]; fresh: (base: string) => string } {
  const r = resolveRebuildOptions({ name: "swap", transport: {} as never, handle: () => {}, tables });
  return { tables: r.tables, fresh: r.freshName };
}

/**
 * A read model's setup, its table and index names through `table`, as the documentation asks of a handler (an index
 * is named without its schema: it is always in its table's).
 */
async function setup(tx: ISql, table: (base: string) => string, marker: string): Promise<void> {
  const index = `${table("orders").split(".").at(-1)}_by_customer`;
  await tx`create table if not exists ${tx(table("orders"))} (id serial primary key, customer text not null, marker text not null)`;
  await tx`create index if not exists ${tx(index)} on ${tx(table("orders"))} (customer)`;
  await tx`
    create table if not exists ${tx(table("lines"))} (
      order_id integer not null references ${tx(table("orders"))} (id), amount integer not null
    )`;
  await tx`insert into ${tx(table("orders"))} (customer, marker) values ('ada', ${marker}), ('bob', ${marker})`;
  await tx`insert into ${tx(table("lines"))} (order_id, amount) select id, 10 from ${tx(table("orders"))}`;
}

describe.skipIf(!postgresUrl)(`swapping a rebuild's tables in${skipReason}`, () => {
  let url: string;
  let sql: Sql;

  beforeAll(async () => {
    url = await freshDatabaseUrl(postgresUrl);
    sql = postgres(url, { max: 4, onnotice: () => {} });
  });
  afterAll(async () => {
    await sql?.end({ timeout: 5 });
    if (url !== undefined) await dropDatabase(url);
  });

  const relations = async (schema = "public") =>
    (
      await sql<Array<{ name: string; kind: string }>>`
        select c.relname as name, c.relkind::text as kind from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = ${schema} and c.relkind in ('r', 'i', 'S') order by c.relname`
    ).map((r) => `${r.kind} ${r.name}`);

  it("drops the live tables and gives the fresh ones, their indexes and sequences the live names", async () => {
    const { tables, fresh } = rebuildTables(["orders", "lines"]);
    await setup(sql, (base) => base, "old");
    await setup(sql, fresh, "new");
    expect(await freshTablesExist(sql, tables)).toBe(true);

    await transactionOn(sql, (tx) => swapTables(tx, tables));

    expect(await sql`select customer, marker from orders order by id`).toEqual([
      { customer: "ada", marker: "new" },
      { customer: "bob", marker: "new" },
    ]);
    expect(await sql`select count(*)::int as n from lines`).toEqual([{ n: 2 }]);
    expect(await relations()).toEqual([
      "r lines",
      "r orders",
      "i orders_by_customer",
      "S orders_id_seq",
      "i orders_pkey",
    ]);
    expect(await freshTablesExist(sql, tables)).toBe(false);
    // The live projection's setup finds everything under the names it creates it with: nothing is added.
    await sql`create index if not exists orders_by_customer on orders (customer)`;
    expect(await relations()).toHaveLength(5);
    // The serial goes on from the fresh table's sequence, and the next rebuild's names are free.
    await sql`insert into orders (customer, marker) values ('cy', 'live')`;
    expect(await sql`select max(id)::int as id from orders`).toEqual([{ id: 3 }]);
    await setup(sql, fresh, "next");
    await transactionOn(sql, (tx) => dropFreshTables(tx, tables));
    await sql`drop table lines, orders`;
  });

  it("swaps tables of another schema within it", async () => {
    await sql`create schema if not exists reporting`;
    const { tables, fresh } = rebuildTables(["reporting.orders", "reporting.lines"]);
    expect(fresh("reporting.orders")).toBe("reporting.orders__rebuild");
    await setup(sql, (base) => fresh(`reporting.${base}`), "new");
    await transactionOn(sql, (tx) => swapTables(tx, tables));
    expect(await sql`select marker from reporting.orders order by id`).toEqual([{ marker: "new" }, { marker: "new" }]);
    expect(await relations("reporting")).toEqual([
      "r lines",
      "r orders",
      "i orders_by_customer",
      "S orders_id_seq",
      "i orders_pkey",
    ]);
    await sql`drop schema reporting cascade`;
  });

  it("makes a reader that queries during the swap wait for its commit, then read the new table: never a missing one", async () => {
    const { tables, fresh } = rebuildTables(["orders", "lines"]);
    await setup(sql, (base) => base, "old");
    await setup(sql, fresh, "new");
    const reader = postgres(url, { max: 1, onnotice: () => {} });
    try {
      expect(await reader`select marker from orders limit 1`).toEqual([{ marker: "old" }]);
      let read: Promise<unknown> | undefined;
      await transactionOn(sql, async (tx) => {
        await swapTables(tx, tables);
        read = reader`select marker from orders limit 1`.execute();
        // The reader is blocked behind the swap's lock, not failing for want of a table.
        await new Promise((resolve) => setTimeout(resolve, 200));
        const [waiting] = await tx<Array<{ n: number }>>`
          select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()`;
        expect(waiting?.n).toBe(1);
      });
      expect(await read).toEqual([{ marker: "new" }]);
    } finally {
      await reader.end({ timeout: 5 });
    }
    await sql`drop table lines, orders`;
  });

  it("gives up after lock_timeout while a reader's transaction holds a live table, changing nothing", async () => {
    const { tables, fresh } = rebuildTables(["orders", "lines"]);
    await setup(sql, (base) => base, "old");
    await setup(sql, fresh, "new");
    const reader = postgres(url, { max: 1, onnotice: () => {} });
    try {
      let release = () => {};
      const held = new Promise<void>((resolve) => (release = resolve));
      const readerTx = transactionOn(reader, async (tx) => {
        await tx`select count(*) from orders`;
        await held;
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      const error = await transactionOn(sql, async (tx) => {
        await tx`select set_config('lock_timeout', '100ms', true)`;
        await swapTables(tx, tables);
      }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "55P03" });
      expect(isTransientDatabaseError(error)).toBe(true);
      expect(await sql`select marker from orders limit 1`).toEqual([{ marker: "old" }]);
      expect(await freshTablesExist(sql, tables)).toBe(true);
      release();
      await readerTx;
      await transactionOn(sql, (tx) => swapTables(tx, tables));
      expect(await sql`select marker from orders limit 1`).toEqual([{ marker: "new" }]);
    } finally {
      await reader.end({ timeout: 5 });
    }
    await sql`drop table lines, orders`;
  });

  it("refuses to swap when a fresh table is missing, leaving the live ones", async () => {
    const { tables } = rebuildTables(["orders", "lines"]);
    await setup(sql, (base) => base, "old");
    const error = await transactionOn(sql, (tx) => swapTables(tx, tables)).catch((e: unknown) => e);
    expect(error).toEqual(
      new Error("rebuild: table orders__rebuild does not exist: setup must create every table listed in `tables`"),
    );
    expect(await sql`select marker from orders limit 1`).toEqual([{ marker: "old" }]);
    await sql`drop table lines, orders`;
  });
});
