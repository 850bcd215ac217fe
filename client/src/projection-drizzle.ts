/**
 * `@eskit/client/projection-drizzle.js`: `project()` for applications that use Drizzle over postgres.js. A module of
 * its own, so that applications without Drizzle never load it.
 */
import { is, type ExtractTablesWithRelations } from "drizzle-orm";
import type { PgTransaction } from "drizzle-orm/pg-core";
import { PostgresJsSession, type PostgresJsDatabase, type PostgresJsQueryResultHKT } from "drizzle-orm/postgres-js";
import type { ISql, Sql } from "postgres";
import { unsettledOnDeadConnection } from "./postgres-transaction.js";
import type { ProjectionDatabase } from "./projection-batch.js";
import type { ProjectionOptions } from "./projection-options.js";
import { runRebuild, type Rebuild } from "./projection-rebuild.js";
import type { RebuildOptions } from "./projection-rebuild-options.js";
import { runProjection, type Projection } from "./projection-run.js";

/** The transaction a Drizzle projection's handler gets: what `db.transaction(async (tx) => ...)` hands out. */
export type DrizzleProjectionTransaction<TSchema extends Record<string, unknown> = Record<string, never>> =
  PgTransaction<PostgresJsQueryResultHKT, TSchema, ExtractTablesWithRelations<TSchema>>;

/** Options of {@link projectWithDrizzle}. */
export interface DrizzleProjectionOptions<
  TSchema extends Record<string, unknown> = Record<string, never>,
> extends ProjectionOptions<DrizzleProjectionTransaction<TSchema>> {
  /** `drizzle(sql)` or `drizzle(sql, { schema })` of `drizzle-orm/postgres-js`: the read model's database. */
  database: PostgresJsDatabase<TSchema> & { $client: Sql<any> };
}

/**
 * `project()` whose handler gets a Drizzle transaction: each batch runs in `database.transaction(...)`, and the
 * projection writes its position through that transaction's own postgres.js connection, so the read model's rows and
 * the position commit together, exactly as with `project()` (whose documentation holds here too). A handler may nest
 * `tx.transaction(...)` (a savepoint) but must not use `database` itself: that would be another transaction.
 */
export function projectWithDrizzle<TSchema extends Record<string, unknown> = Record<string, never>>(
  options: DrizzleProjectionOptions<TSchema>,
): Projection {
  return runProjection(options, onDrizzle(options.database));
}

/** Options of {@link rebuildWithDrizzle}. */
export interface DrizzleRebuildOptions<
  TSchema extends Record<string, unknown> = Record<string, never>,
> extends RebuildOptions<DrizzleProjectionTransaction<TSchema>> {
  /** `drizzle(sql)` or `drizzle(sql, { schema })` of `drizzle-orm/postgres-js`: the read model's database. */
  database: PostgresJsDatabase<TSchema> & { $client: Sql<any> };
}

/**
 * `rebuild()` (`@eskit/client/projection.js`) whose handler gets a Drizzle transaction. A `pgTable` names its table
 * once and for all, so a handler that must write the fresh tables during a rebuild declares its tables with a
 * function of the name, e.g. `const orders = (name: string) => pgTable(name, { ... })`, and writes
 * `tx.insert(orders(context.table("orders")))`; the application's queries keep `orders("orders")`, the live name.
 */
export function rebuildWithDrizzle<TSchema extends Record<string, unknown> = Record<string, never>>(
  options: DrizzleRebuildOptions<TSchema>,
): Rebuild {
  return runRebuild(options, onDrizzle(options.database));
}

function onDrizzle<TSchema extends Record<string, unknown>>(
  database: PostgresJsDatabase<TSchema> & { $client: Sql<any> },
): ProjectionDatabase<DrizzleProjectionTransaction<TSchema>> {
  return {
    sql: database.$client,
    transaction<T>(work: (sql: ISql, tx: DrizzleProjectionTransaction<TSchema>) => Promise<T>): Promise<T> {
      return database.transaction((tx) => unsettledOnDeadConnection(work(postgresOf(tx), tx)));
    },
  };
}

/** The postgres.js transaction under a Drizzle transaction of the postgres-js driver. */
function postgresOf(tx: DrizzleProjectionTransaction<Record<string, unknown>>): ISql {
  const session: unknown = tx._.session;
  if (!is(session, PostgresJsSession)) {
    throw new TypeError("projectWithDrizzle needs a database made by drizzle() of drizzle-orm/postgres-js");
  }
  return session.client as ISql;
}
