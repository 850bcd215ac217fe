/**
 * `@eskit/client/projection.js` (Node only: it needs postgres.js, which the browser entry must never pull in):
 * projections of the Application Log into the application's own PostgreSQL, exactly once. With Drizzle, see
 * `@eskit/client/projection-drizzle.js`.
 */
import type { ISql, Sql, TransactionSql } from "postgres";
import type { ProjectionDatabase } from "./projection-batch.js";
import type { ProjectionOptions } from "./projection-options.js";
import { transactionOn } from "./postgres-transaction.js";
import { runRebuild, type Rebuild } from "./projection-rebuild.js";
import type { RebuildOptions } from "./projection-rebuild-options.js";
import { runProjection, type Projection } from "./projection-run.js";

export { isTransientDatabaseError } from "./database-error.js";
export { ProjectionHandlerError } from "./projection-errors.js";
export type { Projection, ProjectionSummary } from "./projection-run.js";
export type {
  ProjectionContext,
  ProjectionHandler,
  ProjectionLogger,
  ProjectionOptions,
} from "./projection-options.js";
export type { ProjectionErrorInfo, ProjectionState, ProjectionStatus } from "./projection-status.js";
export type { ProjectionReportOptions } from "./projection-report.js";
export { projectionConsumerId, projectionOfConsumer } from "./projection-consumer-id.js";
export { projectionsTable } from "./projection-table.js";
export type { Rebuild, RebuildSummary } from "./projection-rebuild.js";
export type { RebuildOptions } from "./projection-rebuild-options.js";
export type { RebuildPhase, RebuildStatus } from "./projection-rebuild-progress.js";

/** Options of {@link project}: the handler gets a postgres.js transaction on `database`. */
export interface PostgresProjectionOptions<TTypes extends Record<string, unknown> = {}> extends ProjectionOptions<
  TransactionSql<TTypes>
> {
  /** The application's database, where the read model and the `eskit_projections` table live. */
  database: Sql<TTypes>;
}

/**
 * Projects the Application Log into the application's PostgreSQL: `handle(entries, tx, context)` gets the entries
 * matching `selector`, in log order, `batchSize` at a time, with `tx`, a transaction on `database`. The projection's
 * position (the id of the last entry applied) is written in `eskit_projections` (created if missing) in that same
 * transaction, and read back on start: each entry's effects are committed exactly once, across crashes (kill -9
 * included), reconnections and restarts of the Event Store or the database.
 *
 * **One holder.** Instances started with the same name take turns: one holds a PostgreSQL session advisory lock (on a
 * connection of its own, opened with `database`'s options) and applies; the others wait, trying every `lockRetryMs`.
 * PostgreSQL releases the lock when the holder's connection closes, however it died, and another takes over. Every
 * batch checks under the row lock of its position that its instance still holds the lock and that the position is
 * the one it left (fencing): an instance that lost its hold applies nothing more.
 *
 * **Failures.** A transient database error (lost connection, serialization failure, deadlock, shutdown; see
 * {@link isTransientDatabaseError}) rolls the batch back and runs it again after a backoff, as long as it takes; a lost
 * Event Store connection is reconnected from the position + 1. Any other error of a batch (the handler's own) stops
 * the projection after `handlerRetries` retries: nothing of the batch committed, the position on the entry before it,
 * the error logged, in {@link Projection.status}, in the row's `last_error`, and `done` rejects with a
 * {@link ProjectionHandlerError}.
 *
 * **Batches and memory.** The log is read ahead while a batch is applied, at most two batches (and 4 MB of entries)
 * beyond it, and the stream waits beyond that. A batch gathers entries across the Event Store's messages: while the
 * projection catches up, it waits (at most 50 ms) until it is full; at the head of the log it takes what came. The
 * next batch's transaction opens while the one before commits, and goes on only once that one committed.
 */
export function project<TTypes extends Record<string, unknown> = {}>(
  options: PostgresProjectionOptions<TTypes>,
): Projection {
  return runProjection(options, onPostgres(options.database));
}

/** Options of {@link rebuild}: those of the projection it rebuilds, its handler given a postgres.js transaction. */
export interface PostgresRebuildOptions<TTypes extends Record<string, unknown> = {}> extends RebuildOptions<
  TransactionSql<TTypes>
> {
  /** The application's database, where the read model and the `eskit_projections` table live. */
  database: Sql<TTypes>;
}

/**
 * Rebuilds projection `name` while it keeps serving: replays the log from the first entry into fresh tables
 * (`context.table(base)` is `<base>__rebuild` for each of `tables`, which `setup` creates), as a run of its own named
 * `<name>#rebuild` (its own row in `eskit_projections`, its own lock, the same batches, fencing and retries as
 * {@link project}), while the live projection goes on applying new entries to the live tables and readers read them.
 * Once at most one batch is left to replay, it switches over in one transaction that takes the live projection's row
 * lock (the live projection cannot commit a batch meanwhile), applies what is left up to the head, drops the live
 * tables, renames the fresh ones (and their indexes) to the live names, and moves the live projection's row to the
 * last entry applied, with the rebuild's `version`. Readers see the old tables or the new ones complete, never a
 * mix; no entry is applied twice or skipped. The live projection's instances find the position moved at their next
 * batch and go on from there, on the new tables; with a new `version`, those of another version stop applying and
 * wait, and instances deployed with the new version take over.
 *
 * A rebuild stopped or killed before it switches over leaves the live tables and position untouched; run again, it
 * resumes where it stopped (or starts over with `startOver`, or when its `version` changed). Progress (entries
 * applied, entries/s, ETA to the head) is in `status()`, passed to `onProgress` and logged every `statusIntervalMs`.
 */
export function rebuild<TTypes extends Record<string, unknown> = {}>(options: PostgresRebuildOptions<TTypes>): Rebuild {
  return runRebuild(options, onPostgres(options.database));
}

function onPostgres<TTypes extends Record<string, unknown>>(
  database: Sql<TTypes>,
): ProjectionDatabase<TransactionSql<TTypes>> {
  return {
    sql: database,
    transaction<T>(work: (sql: ISql, tx: TransactionSql<TTypes>) => Promise<T>): Promise<T> {
      return transactionOn(database, (tx) => work(tx, tx as TransactionSql<TTypes>));
    },
  };
}
