/**
 * The read model: one row per live Customer document, with the fields people search by in columns of their own
 * (indexed) and the whole document beside them as jsonb. Change `indexedFields` to index other fields: the table, the
 * rows the projection writes and the query API's parameters all follow it.
 */
import type { ISql, JSONValue } from "postgres";

/** The document fields copied into columns of their own, each with an index. */
export const indexedFields = ["email", "country", "plan"] as const;
export type IndexedField = (typeof indexedFields)[number];

/** The table's base name; the projection's `context.table()` turns it into the name to write (see customers-projection.ts). */
export const customersTable = "customers";

/** A JSON object, as the Crud Store keeps documents. */
export type JsonObject = { [key: string]: unknown };

/** One live document as the table holds it. */
export interface CustomerRow {
  readonly id: string;
  readonly version: bigint;
  readonly document: JsonObject;
}

/**
 * Creates the table and its indexes unless the table exists. `id` sorts by code point (`collate "C"`), whatever the
 * database's locale, so that pages of the query API follow one stable order. `(country, plan)` serves queries on
 * both and on the country alone; `plan` and `email` have indexes of their own. The indexes are made with the table,
 * named by PostgreSQL (which picks free names): a table renamed later (as a rebuild may do) keeps them, and a fresh
 * table's indexes never collide with an older table's.
 */
export async function createCustomersTable(tx: ISql, table: string): Promise<void> {
  const [found] = await tx<
    Array<{ exists: boolean }>
  >`select to_regclass(format('%I', ${table}::text)) is not null as exists`;
  if (found?.exists === true) return;
  await tx`
    create table ${tx(table)} (
      id text collate "C" primary key,
      version bigint not null,
      email text,
      country text,
      plan text,
      document jsonb not null
    )`;
  await tx`create index on ${tx(table)} (country, plan)`;
  await tx`create index on ${tx(table)} (plan)`;
  await tx`create index on ${tx(table)} (email)`;
}

/**
 * The value of an indexed column: the field when it is a string, else null (absent, null, a number, an object), so
 * that `country=FR` finds exactly the documents whose `country` is the string "FR".
 */
export function columnValue(document: JsonObject, field: IndexedField): string | null {
  const value = Object.hasOwn(document, field) ? document[field] : undefined;
  return typeof value === "string" ? value : null;
}

/** The documents `ids` as the table holds them now (those it has). */
export async function readCustomers(tx: ISql, table: string, ids: readonly string[]): Promise<CustomerRow[]> {
  if (ids.length === 0) return [];
  const rows = await tx<Array<{ id: string; version: string; document: JsonObject }>>`
    select id, version::text as version, document from ${tx(table)} where id in ${tx(ids)}`;
  return rows.map((row) => ({ id: row.id, version: BigInt(row.version), document: row.document }));
}

/** Inserts or replaces `rows`, their indexed columns taken from their documents, in one statement. */
export async function upsertCustomers(tx: ISql, table: string, rows: readonly CustomerRow[]): Promise<void> {
  if (rows.length === 0) return;
  const values = rows.map((row) => ({
    id: row.id,
    version: String(row.version),
    email: columnValue(row.document, "email"),
    country: columnValue(row.document, "country"),
    plan: columnValue(row.document, "plan"),
    document: tx.json(row.document as JSONValue),
  }));
  await tx`
    insert into ${tx(table)} ${tx(values, "id", "version", "email", "country", "plan", "document")}
    on conflict (id) do update set
      version = excluded.version, email = excluded.email, country = excluded.country, plan = excluded.plan,
      document = excluded.document`;
}

/** Removes the documents `ids` (deleted ones). */
export async function deleteCustomers(tx: ISql, table: string, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await tx`delete from ${tx(table)} where id in ${tx(ids)}`;
}
