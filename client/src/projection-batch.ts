import type { AppLogEntry } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import type { ISql, Sql } from "postgres";
import { backoffDelay, sleep, type BackoffOptions } from "./backoff.js";
import { answeredWithin } from "./database-deadline.js";
import { isTransientDatabaseError } from "./database-error.js";
import { LostHoldError, ProjectionHandlerError } from "./projection-errors.js";
import type { Hold } from "./projection-lock.js";
import type { ProjectionContext, ProjectionHandler } from "./projection-options.js";
import { advanceProjection, boundLockWait, lockProjectionRow } from "./projection-table.js";

/**
 * The application's database as a projection uses it, whatever the driver the handler sees: postgres.js itself, or
 * Drizzle over postgres.js (projection-drizzle.ts).
 */
export interface ProjectionDatabase<Tx> {
  /** The postgres.js client: the projection's own statements outside batches, and its lock's connection options. */
  readonly sql: Sql<any>;
  /** Runs `work` in one transaction: `sql` for the projection's statements, `tx` for the handler, the same transaction. */
  transaction<T>(work: (sql: ISql, tx: Tx) => Promise<T>): Promise<T>;
}

/** What applying batches needs from the holding that runs them. */
export interface BatchRound<Tx> {
  /** The name of the projection's row and lock. */
  readonly name: string;
  /** The version this instance runs: a row at another version was switched by a rebuild, and fences it out. */
  readonly version: string;
  /** What the handler's context says: the projection's name and where its tables are (see `ProjectionContext`). */
  readonly context: Pick<ProjectionContext, "name" | "table">;
  readonly db: ProjectionDatabase<Tx>;
  readonly hold: Hold;
  readonly handle: ProjectionHandler<Tx>;
  readonly backoff: BackoffOptions;
  /** How long a batch's fencing check may go unanswered (see `databaseTimeoutMs`) before the batch is tried again. */
  readonly timeoutMs: number;
  /** Aborted when the projection stops or loses its hold: no new attempt starts then. */
  readonly stop: AbortSignal;
  /** The projection's committed position: where the next batch starts from. */
  readonly position: () => bigint;
  committed(position: bigint, entries: number): void;
  /** A transient error will be retried after `delayMs`. */
  retrying(error: unknown, entryId: bigint, delayMs: number): void;
  /** The hold is gone: stop applying and wait for the lock again. */
  lose(error: LostHoldError): void;
}

/**
 * Applies `entries` exactly once: in one transaction that first locks the projection's row and checks that this
 * instance still holds the lock, that the position is the one it applied last and that the row is at its version
 * (fencing: a former holder that lost its lock, or an instance whose tables a rebuild replaced, can apply nothing, not
 * even a batch it started before), moves the position to the last entry (sent with the check: one round trip; a check
 * that fails rolls it back) and runs the handler. A transient error (a lost connection, a serialization failure, a
 * deadlock, a server shutdown) rolls the whole transaction back and runs it again after a backoff; if the commit
 * happened but its answer was lost, the next attempt finds the position already at the last entry and does nothing.
 * Any other error rejects as a {@link ProjectionHandlerError}, nothing of the batch committed. A stop during a backoff
 * rejects with the last error.
 */
export function applyBatch<Tx>(round: BatchRound<Tx>, entries: AppLogEntry[]): Promise<void> {
  return settle(round, entries, undefined);
}

/** Batches applied one after the other, each one's transaction opened while the one before it commits. */
export interface BatchPipeline {
  /**
   * Applies `entries` (the entries after those of the previous call) as {@link applyBatch} does, and resolves as soon
   * as its handler ran and its commit is on its way, so that the next batch's transaction (BEGIN, the row lock it
   * waits for, the fencing check) overlaps this one's COMMIT; or rejects as {@link applyBatch} rejects. The next batch
   * goes on only once this one committed; if this one's commit fails, the next rolls back and waits, this one is tried
   * again as {@link applyBatch} tries, then the next. A commit that fails for good after this resolved is passed to
   * `failed`, and the next call rejects with it.
   */
  apply(entries: AppLogEntry[]): Promise<void>;
  /** Resolves once the last batch committed (rejects if it failed for good): call it before letting the lock go. */
  drain(): Promise<void>;
}

/** A batch whose commit may still be on its way. */
interface InFlight {
  readonly last: bigint;
  /** Whether its first transaction committed (false: it failed, and is being tried again). */
  readonly committed: Promise<boolean>;
  /** Settles once it committed (after any retries), or failed for good. */
  readonly settled: Promise<void>;
}

/** Thrown in a transaction whose batch must wait, since the batch before it did not commit: it rolls back. */
const predecessorFailed = new Error("the batch before did not commit");

/** A {@link BatchPipeline} over `round`; `failed` hears of a commit that failed for good after its batch resolved. */
export function pipelineBatches<Tx>(round: BatchRound<Tx>, failed: (error: unknown) => void): BatchPipeline {
  let previous: InFlight | undefined;
  return {
    apply(entries) {
      const before = previous;
      let handedOver = false;
      let hand!: () => void;
      const handed = new Promise<void>((resolve) => (hand = resolve));
      const onHanded = () => {
        handedOver = true;
        hand();
      };
      const from = before?.last ?? round.position();
      const first = attemptBatch(round, entries, from, before?.committed, onHanded);
      const settled = settle(round, entries, { attempt: first, from, before });
      const inFlight: InFlight = { last: entries.at(-1)!.id, committed: first.then(yes, no), settled };
      previous = inFlight;
      settled.catch((error: unknown) => {
        if (handedOver) return failed(error);
        // Rejected to the caller, who may call again with the same entries: they start from the committed position.
        if (previous === inFlight) previous = undefined;
      });
      return Promise.race([handed, settled]);
    },
    drain: () => previous?.settled ?? Promise.resolve(),
  };
}

const yes = () => true;
const no = () => false;

/**
 * Runs the batch until it committed, as {@link applyBatch} says. `first`, when given, is its first transaction,
 * already started (from the position the batch `before` it moves to).
 */
async function settle<Tx>(
  round: BatchRound<Tx>,
  entries: AppLogEntry[],
  first: { readonly attempt: Promise<void>; readonly from: bigint; readonly before: InFlight | undefined } | undefined,
): Promise<void> {
  const firstId = entries[0]!.id;
  const last = entries.at(-1)!.id;
  for (let attempt = 0; ; attempt++) {
    const from = first?.from ?? round.position();
    try {
      await (first?.attempt ?? attemptBatch(round, entries, from));
      // The batch before committed first (this one's row lock waited for it): its position is reported first.
      await first?.before?.settled.catch(() => {});
      round.committed(last, entries.length);
      return;
    } catch (error) {
      // Whatever went wrong, this batch goes on only once the batch before it settled (it rejects if that one failed
      // for good): a retry from the position before that batch, while it was still being tried again, would apply
      // this batch over the gap and leave that one finding its place taken, its entries never applied.
      const before = first?.before;
      first = undefined;
      if (before !== undefined) await before.settled;
      if (error === predecessorFailed) {
        // The batch before was tried again and committed: this one runs on its own now.
        attempt = -1;
        continue;
      }
      if (error instanceof LostHoldError) {
        round.lose(error);
        throw error;
      }
      if (!isTransientDatabaseError(error) || round.stop.aborted) {
        throw isTransientDatabaseError(error)
          ? error
          : new ProjectionHandlerError(round.name, firstId, last, from, error);
      }
      const delay = backoffDelay(attempt, round.backoff);
      round.retrying(error, firstId, delay);
      if (!(await sleep(delay, round.stop))) throw error;
    }
  }
}

/**
 * One transaction of a batch, from position `from`. With `before` (whether the batch before, still committing when
 * this one began, did commit), it first waits for that answer, which its row lock was waiting for anyway: if it did
 * not commit, this one rolls back ({@link predecessorFailed}). `handed` is called when the handler ran and the
 * position moved, just before the commit is sent.
 */
async function attemptBatch<Tx>(
  round: BatchRound<Tx>,
  entries: AppLogEntry[],
  from: bigint,
  before?: Promise<boolean>,
  handed?: () => void,
): Promise<void> {
  const last = entries.at(-1)!.id;
  // The check must be answered within `timeoutMs` (postgres.js can lose a transaction whose connection closes just
  // after BEGIN): else the batch is tried again, and this transaction, should its check come after all, rolls back.
  // The server gives up waiting for the row lock after as long (lock_timeout, a transient error), so a transaction
  // given up on does not keep its connection.
  let late = false;
  let checked!: () => void;
  const check = new Promise<void>((resolve) => (checked = resolve));
  const transaction = round.db.transaction(async (sql, tx) => {
    // Sent together, one round trip: the position moves under the row lock the check takes, and whatever the check
    // finds wrong throws, which rolls the move back with the rest of the transaction.
    const bounding = boundLockWait(sql, round.timeoutMs);
    bounding.catch(() => {}); // fails only with its connection, as the check then does
    const locking = lockProjectionRow(sql, round.name, round.hold);
    const moving = advanceProjection(sql, round.name, last);
    moving.catch(() => {}); // seen below, when awaited; or it failed with the check, which throws first
    const row = await locking;
    await bounding;
    // Not a lost connection's error: this one must roll back (see postgres-transaction.ts).
    if (late) throw new Error("the fencing check came after the batch was given up on");
    checked();
    if (before !== undefined && !(await before)) throw predecessorFailed;
    if (row === undefined || !row.held) {
      throw new LostHoldError(`projection ${JSON.stringify(round.name)}: this instance no longer holds its lock`);
    }
    if (row.version !== round.version) {
      throw new LostHoldError(
        `projection ${JSON.stringify(round.name)} is at version ${JSON.stringify(row.version)}, this instance runs ` +
          `${JSON.stringify(round.version)}: a rebuild switched it over`,
      );
    }
    if (row.position !== last) {
      if (row.position !== from) {
        throw new LostHoldError(
          `projection ${JSON.stringify(round.name)} is at ${row.position}, not at ${from}: another instance applied entries`,
        );
      }
      const context: ProjectionContext = { name: round.context.name, position: from, table: round.context.table };
      await round.handle(entries, tx, context);
    }
    await moving;
    handed?.();
  });
  const what = `projection ${JSON.stringify(round.name)}: the fencing check of a batch`;
  await answeredWithin(Promise.race([check, transaction]), round.timeoutMs, what, () => (late = true));
  await transaction;
}
