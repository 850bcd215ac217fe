import type { AppLogEntry } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import { isTransientDatabaseError } from "./database-error.js";
import type { ProjectionDatabase } from "./projection-batch.js";
import { LostHoldError, ProjectionHandlerError } from "./projection-errors.js";
import type { Hold } from "./projection-lock.js";
import type { ProjectionContext, ProjectionHandler } from "./projection-options.js";
import type { RebuildTable } from "./projection-rebuild-options.js";
import { swapTables } from "./projection-swap-tables.js";
import { lockProjectionRow } from "./projection-table.js";

/** What the switch-over of a rebuild needs. */
export interface SwitchOver<Tx> {
  /** The live projection's name: its row is taken over. */
  readonly live: string;
  /** The rebuild's row and lock. */
  readonly rebuild: string;
  /** The rebuild's version: the live row's from the switch-over on. */
  readonly version: string;
  readonly db: ProjectionDatabase<Tx>;
  readonly hold: Hold;
  readonly handle: ProjectionHandler<Tx>;
  /** The rebuild's context: the live projection's name, the fresh tables. */
  readonly context: Pick<ProjectionContext, "name" | "table">;
  readonly batchSize: number;
  readonly tables: readonly RebuildTable[];
  readonly lockTimeoutMs: number;
  /**
   * The entries of the log after `after` that the selector matches, up to the head as it is when called (pages of
   * them, in log order): what the rebuild has not applied yet.
   */
  remainder(after: bigint): AsyncIterable<AppLogEntry[]>;
}

/** How the switch-over went. */
export interface Switched {
  /** The live projection's position from now on: the last entry the new tables hold. */
  readonly position: bigint;
  /** The live projection's position just before: what the old tables held. */
  readonly livePosition: bigint;
  /** Entries applied by the switch-over itself, after the rebuild's last batch. */
  readonly applied: number;
}

/**
 * Switches the read model over to the rebuild's tables in one transaction, so that readers see either the old tables
 * or the new ones complete, never a mix, and every entry is applied exactly once:
 *
 * 1. Locks the rebuild's row (fencing, as a batch does: this instance must still hold the rebuild) and then the live
 *    projection's row (`for update`, created if missing). A batch of the live projection that is committing finishes
 *    first; any later one waits for this transaction at its own row lock, then finds the position moved (or the
 *    version changed), applies nothing and starts again from the new position, on the new tables.
 * 2. Applies to the fresh tables, in batches through the handler, whatever the log holds after the rebuild's position
 *    (up to the head as of now, past the live projection's position: the live one cannot move meanwhile).
 * 3. Drops the live tables and renames the fresh ones to their names (see {@link swapTables}), waiting at most
 *    `lockTimeoutMs` for each table's lock (readers' open transactions), else rolls back with `lock_not_available`.
 * 4. Moves the live row to the last entry applied (never behind where it was) and the rebuild's version; deletes the
 *    rebuild's row.
 *
 * Resolves to "gone" when the rebuild's row is missing: a switch-over whose commit answer was lost has committed.
 * Rejects with a {@link LostHoldError} (the rebuild's lock is gone), a {@link ProjectionHandlerError} (the handler
 * failed on the remainder), or the database's or the Event Store's error; nothing is committed then.
 */
export async function switchOver<Tx>(s: SwitchOver<Tx>): Promise<Switched | "gone"> {
  return s.db.transaction(async (sql, tx) => {
    const own = await lockProjectionRow(sql, s.rebuild, s.hold);
    if (own === undefined) return "gone";
    if (!own.held || own.version !== s.version) {
      throw new LostHoldError(`projection ${JSON.stringify(s.rebuild)}: this instance no longer holds its lock`);
    }
    await sql`
      insert into eskit_projections (name, version) values (${s.live}, ${s.version}) on conflict (name) do nothing`;
    const [row] = await sql<Array<{ position: string }>>`
      select position::text as position from eskit_projections where name = ${s.live} for update`;
    if (row === undefined) throw new Error(`the row of projection ${JSON.stringify(s.live)} vanished`);
    const livePosition = BigInt(row.position);
    let position = own.position;
    let applied = 0;
    for await (const page of s.remainder(position)) {
      for (let i = 0; i < page.length; i += s.batchSize) {
        const batch = page.slice(i, i + s.batchSize);
        try {
          await s.handle(batch, tx, { name: s.context.name, position, table: s.context.table });
        } catch (error) {
          if (isTransientDatabaseError(error)) throw error;
          throw new ProjectionHandlerError(s.rebuild, batch[0]!.id, batch.at(-1)!.id, position, error);
        }
        position = batch.at(-1)!.id;
        applied += batch.length;
      }
    }
    const final = position > livePosition ? position : livePosition;
    await sql`select set_config('lock_timeout', ${`${s.lockTimeoutMs}ms`}, true)`;
    await swapTables(sql, s.tables);
    await sql`
      update eskit_projections
      set position = ${String(final)}::int8, version = ${s.version}, updated_at = now(),
        last_error = null, last_error_entry_id = null, last_error_at = null
      where name = ${s.live}`;
    await sql`delete from eskit_projections where name = ${s.rebuild}`;
    return { position: final, livePosition, applied };
  });
}
