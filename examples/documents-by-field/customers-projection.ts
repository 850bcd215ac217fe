/**
 * The projection: the Crud Store's events of one entity type, applied to the `customers` table by `project()`, which
 * commits each batch's rows together with the projection's position, exactly once.
 *
 * Why apply the events rather than ask the Crud Store for each document: the log carries every change (the whole
 * document on Created, a merge patch or the whole document on Updated), so the read model needs nothing but the log
 * and its own table: no call per entry to another service, no dependency on the Crud Store being up, and a rebuild
 * from the log gives the same rows. Each batch reads the documents it touches in one query, folds its entries over
 * them in memory (document-changes.ts) and writes the outcome in two statements.
 */
import type { Transport } from "@eskit/client";
import { project, type Projection, type ProjectionLogger } from "@eskit/client/projection.js";
import type { Sql } from "postgres";
import {
  createCustomersTable,
  customersTable,
  deleteCustomers,
  readCustomers,
  upsertCustomers,
} from "./customers-table.js";
import { foldChanges } from "./document-changes.js";

/** Options of {@link projectCustomers}. */
export interface CustomersProjectionOptions {
  readonly transport: Transport;
  readonly database: Sql;
  /** The Crud Store's entity type, e.g. `acme.Customer`. */
  readonly entityType: string;
  readonly batchSize?: number;
  readonly logger?: ProjectionLogger;
}

/** Starts projecting the documents of `entityType` into the `customers` table of `database`. */
export function projectCustomers(options: CustomersProjectionOptions): Projection {
  const { entityType } = options;
  return project({
    transport: options.transport,
    database: options.database,
    // One row in eskit_projections per entity type: a database can hold the read models of several types.
    name: `documents-by-field:${entityType}`,
    selector: `${entityType}.*`,
    batchSize: options.batchSize ?? 500,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    setup: (tx, { table }) => createCustomersTable(tx, table(customersTable)),
    handle: async (entries, tx, { table }) => {
      const name = table(customersTable);
      const ids = [...new Set(entries.map((entry) => entry.event?.originator?.id ?? ""))];
      const before = new Map((await readCustomers(tx, name, ids)).map((row) => [row.id, row]));
      const { live, deleted } = foldChanges(entityType, entries, before);
      await upsertCustomers(tx, name, live);
      await deleteCustomers(tx, name, deleted);
    },
  });
}
