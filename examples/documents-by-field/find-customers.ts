/**
 * The question the Crud Store cannot answer (its List pages by id only): which documents have these values in these
 * fields? Answered from the read model, through the indexes of customers-table.ts, a page at a time.
 */
import type { ISql } from "postgres";
import {
  customersTable,
  indexedFields,
  type CustomerRow,
  type IndexedField,
  type JsonObject,
} from "./customers-table.js";

/** Exact values of indexed fields; a field left out matches anything. */
export type CustomerFilter = Partial<Record<IndexedField, string>>;

/** One page of an answer, in id order (by code point). */
export interface CustomerPage {
  readonly customers: CustomerRow[];
  /** Pass it as `after` for the next page; undefined on the last one. */
  readonly next: string | undefined;
}

/** The most documents one page returns. */
export const maxPageSize = 1000;

/**
 * The documents matching `filter` whose id comes after `after` (all when absent), at most `limit` of them: keyset
 * paging over the primary key, so a page costs the same wherever it starts.
 */
export async function findCustomers(
  sql: ISql,
  filter: CustomerFilter,
  page: { readonly after?: string; readonly limit: number },
): Promise<CustomerPage> {
  const conditions = indexedFields
    .filter((field) => filter[field] !== undefined)
    .map((field) => sql`and ${sql(field)} = ${filter[field]!}`);
  if (page.after !== undefined) conditions.push(sql`and id > ${page.after}`);
  const rows = await sql<Array<{ id: string; version: string; document: JsonObject }>>`
    select id, version::text as version, document from ${sql(customersTable)}
    where true ${conditions.reduce((all, condition) => sql`${all} ${condition}`, sql``)}
    order by id
    limit ${page.limit + 1}`;
  const customers = rows
    .slice(0, page.limit)
    .map((row) => ({ id: row.id, version: BigInt(row.version), document: row.document }));
  return { customers, next: rows.length > page.limit ? customers.at(-1)?.id : undefined };
}
