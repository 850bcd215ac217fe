import type { ISql } from "postgres";
import type { RebuildTable } from "./projection-rebuild-options.js";

/** `"name"` as PostgreSQL quotes an identifier. */
function quote(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** `table` or `schema.table` quoted, as postgres.js quotes `tx(name)` in the handler's statements. */
function ident(schema: string | undefined, table: string): string {
  return schema === undefined ? quote(table) : `${quote(schema)}.${quote(table)}`;
}

/** Drops the fresh tables of a rebuild, if they exist: a rebuild that starts over starts from nothing. */
export async function dropFreshTables(tx: ISql, tables: readonly RebuildTable[]): Promise<void> {
  await tx.unsafe(`drop table if exists ${tables.map((t) => ident(t.schema, t.freshTable)).join(", ")}`);
}

/** Whether every fresh table of the rebuild exists (a rebuild that has applied entries must find them all). */
export async function freshTablesExist(tx: ISql, tables: readonly RebuildTable[]): Promise<boolean> {
  for (const t of tables) if (!(await exists(tx, ident(t.schema, t.freshTable)))) return false;
  return true;
}

async function exists(tx: ISql, name: string): Promise<boolean> {
  const [found] = await tx<Array<{ exists: boolean }>>`select to_regclass(${name}) is not null as exists`;
  return found?.exists === true;
}

/**
 * Within the switch-over's transaction `tx`: drops the live tables (all in one statement, so that foreign keys between
 * them do not stand in the way) and gives each fresh table the live one's name. The fresh tables' indexes and owned
 * sequences whose names start with the fresh table's name (`orders__rebuild_pkey`, or an index the setup named
 * `${table("orders")}_by_customer`) are renamed the same way (`orders_pkey`, `orders_by_customer`), so that the live
 * projection's setup finds them under the names it creates them with, and the next rebuild's names are free.
 * Constraints named after an index follow it. Every statement takes its table's ACCESS EXCLUSIVE lock: readers wait
 * for the commit, then read the new tables; nobody sees a name missing. Throws, leaving it to the caller to roll
 * back, when a fresh table is missing or the live one cannot be dropped (a view or another table's foreign key
 * depends on it).
 */
export async function swapTables(tx: ISql, tables: readonly RebuildTable[]): Promise<void> {
  for (const t of tables) {
    if (!(await exists(tx, ident(t.schema, t.freshTable)))) {
      throw new Error(`rebuild: table ${t.fresh} does not exist: setup must create every table listed in \`tables\``);
    }
  }
  await tx.unsafe(`drop table if exists ${tables.map((t) => ident(t.schema, t.table)).join(", ")}`);
  for (const t of tables) {
    const fresh = ident(t.schema, t.freshTable);
    const related = await tx<Array<{ schema: string; name: string; kind: string }>>`
      select n.nspname as schema, c.relname as name, c.relkind::text as kind
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where (
          c.oid in (select indexrelid from pg_index where indrelid = to_regclass(${fresh}))
          or c.oid in (
            select objid from pg_depend
            where classid = 'pg_class'::regclass and refclassid = 'pg_class'::regclass
              and refobjid = to_regclass(${fresh}) and deptype in ('a', 'i')
          )
        )
        and c.relkind in ('i', 'I', 'S')
        and starts_with(c.relname, ${t.freshTable})`;
    for (const object of related) {
      const kind = object.kind === "S" ? "sequence" : "index";
      const renamed = t.table + object.name.slice(t.freshTable.length);
      await tx.unsafe(`alter ${kind} ${ident(object.schema, object.name)} rename to ${quote(renamed)}`);
    }
    await tx.unsafe(`alter table ${fresh} rename to ${quote(t.table)}`);
  }
}
