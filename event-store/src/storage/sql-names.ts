import { getTableColumns, getTableName, type Table } from "drizzle-orm";
import { consumerOffsets, events, snapshots } from "./schema.js";

/**
 * How the store reaches the database (the rule, for every file of store/): a statement names tables and columns only
 * through the Drizzle schema (schema.ts), never as text of its own. Statements built rarely use Drizzle's query
 * builder (offsets.ts, snapshots.ts); the hot paths (appends, event and log reads) send fixed text prepared once per
 * connection, because the builder costs about 70 µs per inserted row, and that text is written with the names below,
 * which come from the schema: a column renamed in schema.ts is renamed in every statement, and a column removed or
 * renamed there fails the typecheck wherever a statement uses it. Rows come back under explicit aliases, so the row
 * types do not depend on column names either. `sql-names.unit.spec.ts` checks that no store file spells a table or
 * column name itself.
 */
export type SqlNames<T extends Table> = { readonly $: string } & { readonly [K in keyof T["_"]["columns"]]: string };

/** The SQL names of `table` (`$`) and of its columns, keyed by their schema properties. */
export function sqlNames<T extends Table>(table: T): SqlNames<T> {
  const columns = Object.entries(getTableColumns(table)).map(([key, column]) => [key, column.name]);
  return Object.freeze({ $: getTableName(table), ...Object.fromEntries(columns) }) as SqlNames<T>;
}

/** The tables of schema.ts, by name. */
export const ev = sqlNames(events);
export const snap = sqlNames(snapshots);
export const offsets = sqlNames(consumerOffsets);
