import type { ISql, Sql } from "postgres";
import { transactionOn } from "./postgres-transaction.js";
import { holderLockKey, lockIdentity, type Hold } from "./projection-lock.js";

/**
 * The projections' own table in the application's database: one row per projection, whose `position` (the id of the
 * last log entry applied) is written in the very transaction that applies the entries up to it. Statements name
 * their columns with one-word aliases, so that a `transform` of the application's postgres.js (e.g. camel case)
 * leaves them as they are; int8 values travel as text, whatever the application's type parsers.
 */
export const projectionsTable = "eskit_projections";

/** A projection's row as a transaction sees it under its row lock. */
export interface LockedRow {
  readonly position: bigint;
  /** The version of the handler the row's position was applied with (see `ProjectionOptions.version`). */
  readonly version: string;
  /** Whether the session of the hold that started this transaction still holds the projection's advisory lock. */
  readonly held: boolean;
}

/**
 * Creates the table unless it exists, or adds the `version` column to one created before projections had versions.
 * Two processes starting at once would both try: a transaction-scoped advisory lock makes the second wait and then
 * find the table. A table that is up to date is not touched, so a database user without the CREATE privilege can run
 * projections once an administrator made the table.
 */
export async function createProjectionsTable(sql: Sql<any>): Promise<void> {
  const current = async (tx: ISql) => {
    const [found] = await tx<Array<{ current: boolean }>>`
      select exists (
        select 1 from pg_attribute
        where attrelid = to_regclass(${projectionsTable}) and attname = 'version' and not attisdropped
      ) as current`;
    return found?.current === true;
  };
  if (await current(sql)) return;
  await transactionOn(sql, async (tx) => {
    await tx`select pg_advisory_xact_lock(${String(holderLockKey("\u0000table"))}::int8)`;
    if (await current(tx)) return;
    await tx`
      create table if not exists eskit_projections (
        name text primary key,
        position bigint not null default 0,
        version text not null default '',
        updated_at timestamptz not null default now(),
        last_error text,
        last_error_entry_id bigint,
        last_error_at timestamptz
      )`;
    await tx`alter table eskit_projections add column if not exists version text not null default ''`;
  });
}

/** A projection's row as its new holder found it. */
export interface ClaimedRow {
  readonly position: bigint;
  readonly version: string;
}

/**
 * The position and version of projection `name`, its row inserted at position 0 with `version` when it has none.
 * Read under the row lock, so that a new holder waits for a batch that a former holder (whose lock connection just
 * died) is still committing, or for a rebuild's switch-over, and starts after it.
 */
export async function claimProjectionRow(
  sql: Sql<any>,
  name: string,
  version = "",
  lockTimeoutMs?: number,
): Promise<ClaimedRow> {
  return transactionOn(sql, async (tx) => {
    if (lockTimeoutMs !== undefined) await boundLockWait(tx, lockTimeoutMs);
    await tx`insert into eskit_projections (name, version) values (${name}, ${version}) on conflict (name) do nothing`;
    const [row] = await tx<Array<{ position: string; version: string }>>`
      select position::text as position, version from eskit_projections where name = ${name} for update`;
    if (row === undefined) throw new Error(`the row of projection ${JSON.stringify(name)} vanished`);
    return { position: BigInt(row.position), version: row.version };
  });
}

/**
 * Makes the rest of transaction `tx` wait at most `ms` for a lock (`lock_timeout`): past it the statement fails with
 * 55P03, a transient error, and the transaction rolls back, freeing its connection.
 */
export function boundLockWait(tx: ISql, ms: number): Promise<unknown> {
  return tx`select set_config('lock_timeout', ${`${ms}ms`}, true)`;
}

/** The position of projection `name` as last committed (0 when it has no row), for an instance that waits. */
export async function readProjectionPosition(sql: ISql, name: string): Promise<bigint> {
  const [row] = await sql<Array<{ position: string }>>`
    select position::text as position from eskit_projections where name = ${name}`;
  return row === undefined ? 0n : BigInt(row.position);
}

/**
 * Locks the row of projection `name` for the rest of the transaction `tx` and reads its position, its version and
 * whether `hold` is still current: the fencing check every batch makes before it applies anything. Undefined when
 * there is no row.
 */
export async function lockProjectionRow(tx: ISql, name: string, hold: Hold): Promise<LockedRow | undefined> {
  const { classid, objid } = lockIdentity(hold.key);
  const [row] = await tx<Array<{ position: string; version: string; held: boolean }>>`
    select position::text as position, version,
      exists (
        select 1 from pg_locks
        where locktype = 'advisory' and classid::int8 = ${classid}::int8 and objid::int8 = ${objid}::int8
          and objsubid = 1 and pid = ${hold.pid} and granted
      ) as held
    from eskit_projections where name = ${name}
    for update`;
  return row === undefined ? undefined : { position: BigInt(row.position), version: row.version, held: row.held };
}

/** Moves projection `name` to `position` in the transaction that applied the entries up to it; clears its error. */
export async function advanceProjection(tx: ISql, name: string, position: bigint): Promise<void> {
  await tx`
    update eskit_projections
    set position = ${String(position)}::int8, updated_at = now(),
      last_error = null, last_error_entry_id = null, last_error_at = null
    where name = ${name}`;
}

/**
 * Records the error that stopped projection `name` at `position`, with the id of the first entry it could not apply,
 * unless the projection moved on or another instance holds it meanwhile (then the error is no longer its state).
 */
export async function recordProjectionError(
  sql: Sql<any>,
  name: string,
  hold: Hold,
  position: bigint,
  error: { readonly message: string; readonly entryId: bigint },
): Promise<void> {
  await transactionOn(sql, async (tx) => {
    const row = await lockProjectionRow(tx, name, hold);
    if (row === undefined || !row.held || row.position !== position) return;
    await tx`
      update eskit_projections
      set last_error = ${error.message}, last_error_entry_id = ${String(error.entryId)}::int8, last_error_at = now()
      where name = ${name}`;
  });
}
