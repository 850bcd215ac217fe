import type { AppLogEntry } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import { untilAnswered } from "./consume-start.js";
import { isTransientDatabaseError } from "./database-error.js";
import { followLog, type HandlerUnit } from "./follow-log.js";
import { pipelineBatches, type BatchRound } from "./projection-batch.js";
import { LostHoldError, ProjectionHandlerError } from "./projection-errors.js";
import type { Hold } from "./projection-lock.js";
import { readAheadBytes, withReadAhead } from "./projection-read-ahead.js";
import type { Run } from "./projection-run.js";
import { recordProjectionError } from "./projection-table.js";

/**
 * Follows the log from the projection's position and applies it batch by batch, until the projection stops (resolves)
 * or a batch fails for good (rejects), or this instance loses its hold (resolves, to wait for the lock again).
 * Resolves to `"outdated"` at once, applying nothing, when the projection's row is at another version than this
 * instance's (a rebuild switched it over): the instance must let go and wait to be redeployed.
 */
export async function applyWhileHolding<Tx>(run: Run<Tx>, hold: Hold, stop: AbortSignal): Promise<"outdated" | void> {
  const { o, db, status, options } = run;
  const log = o.logger;
  const round = new AbortController();
  const end = () => round.abort();
  stop.addEventListener("abort", end, { once: true });
  hold.lost.addEventListener("abort", end, { once: true });
  if (stop.aborted || hold.lost.aborted) end();
  const lose = (error: LostHoldError) => {
    if (!round.signal.aborted) log.warn({ projection: o.name, err: error.message }, "projection: lost its hold");
    round.abort(error);
  };
  run.holding.hold = hold;
  run.holding.lose = lose;
  let failure: { error: unknown } | undefined;
  try {
    const claimed = await untilAnswered(() => run.claim(hold), run.retry, round.signal, isTransientDatabaseError);
    if (claimed === undefined) return;
    if (claimed === "outdated") return "outdated";
    let committed = claimed;
    status.position(committed);
    const setup = options.setup;
    if (setup !== undefined) {
      const ready = await untilAnswered(
        () => db.transaction(async (_sql, tx) => (await setup(tx, run.context), true)),
        run.retry,
        round.signal,
        isTransientDatabaseError,
      );
      if (ready === undefined) return;
    }
    status.state("running");
    log.info(
      { projection: o.name, position: String(committed) },
      "projection: holding it; applying the log after its position",
    );
    const batches: BatchRound<Tx> = {
      name: o.name,
      version: o.version,
      context: run.context,
      db,
      hold,
      handle: options.handle,
      backoff: o.follow.backoff,
      timeoutMs: o.databaseTimeoutMs,
      stop: round.signal,
      position: () => committed,
      committed: (position, entries) => {
        committed = position;
        status.applied(position, entries);
      },
      retrying: (error, entryId, delayMs) => {
        status.error({ message: messageOf(error), entryId, at: new Date(), transient: true });
        log.warn(
          { projection: o.name, entryId: String(entryId), err: messageOf(error), delayMs },
          "projection: retrying a batch",
        );
      },
      lose,
    };
    const fail = (error: unknown) => {
      // A lost hold, or a transient error cut short by stopping: no failure, the round just ends.
      if (error instanceof LostHoldError || (round.signal.aborted && !(error instanceof ProjectionHandlerError)))
        return;
      failure ??= { error };
      round.abort(error);
    };
    // Each batch's transaction opens while the one before commits (projection-batch.ts).
    const pipeline = pipelineBatches(batches, fail);
    const split = (entries: AppLogEntry[]): HandlerUnit[] =>
      chunks(entries, o.batchSize).map((batch) => ({
        last: batch.at(-1)!.id,
        count: batch.length,
        call: () => pipeline.apply(batch),
      }));
    const follow = { ...o.follow, onReconnect: run.retry.onReconnect };
    // The log is read ahead while a batch is applied, and batches span its messages (projection-read-ahead.ts).
    const eventStore = withReadAhead(run.eventStore, {
      entries: o.batchSize,
      bytes: readAheadBytes,
      behind: (id) => id < status.snapshot().head,
    });
    await followLog(
      eventStore,
      follow,
      { after: committed, saved: committed },
      { handled: () => {} },
      split,
      round.signal,
      fail,
    );
    // The last batch commits (or fails) before the lock can go.
    await pipeline.drain().catch(fail);
    if (failure !== undefined) {
      // A failed batch is reported here, with its entries; anything else (a selector the Event Store refuses) by the run.
      if (failure.error instanceof ProjectionHandlerError) await reportFailure(run, hold, failure.error);
      throw failure.error;
    }
    if (!stop.aborted) status.state("waiting");
  } finally {
    stop.removeEventListener("abort", end);
    hold.lost.removeEventListener("abort", end);
    run.holding.hold = undefined;
    run.holding.lose = () => {};
  }
}

/** Logs the batch that stops the projection, exposes its error in the status, and records it in the projection's row. */
async function reportFailure<Tx>(run: Run<Tx>, hold: Hold, error: ProjectionHandlerError): Promise<void> {
  const { o, status } = run;
  const message = messageOf(error.cause);
  status.error({ message, entryId: error.fromId, at: new Date(), transient: false });
  o.logger.error(
    {
      projection: o.name,
      position: String(error.position),
      entryId: String(error.fromId),
      toId: String(error.toId),
      err: message,
    },
    "projection stopped: a batch failed",
  );
  await recordProjectionError(run.db.sql, o.name, hold, error.position, { message, entryId: error.fromId }).catch(
    (recordError: unknown) =>
      o.logger.warn({ projection: o.name, err: messageOf(recordError) }, "projection: could not record its error"),
  );
}

function chunks<T>(items: T[], size: number): T[][] {
  if (items.length <= size) return [items];
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
