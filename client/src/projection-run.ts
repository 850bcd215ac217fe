import { createClient, type Client } from "@connectrpc/connect";
import { EventStoreService } from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
import { sleep } from "./backoff.js";
import { untilAnswered } from "./consume-start.js";
import { answeredWithin } from "./database-deadline.js";
import { isTransientDatabaseError } from "./database-error.js";
import { withLeanLogsPoll } from "./lean-logs-poll.js";
import type { ProjectionDatabase } from "./projection-batch.js";
import { ProjectionHandlerError } from "./projection-errors.js";
import { applyWhileHolding } from "./projection-holding.js";
import { openHolderLock, type Hold } from "./projection-lock.js";
import { watchProjection, type Holding } from "./projection-monitor.js";
import {
  resolveProjectionOptions,
  type ProjectionContext,
  type ProjectionOptions,
  type ResolvedProjectionOptions,
} from "./projection-options.js";
import { reportPosition, type PositionReport } from "./projection-report.js";
import { createStatusTracker, type ProjectionStatus, type StatusTracker } from "./projection-status.js";
import { claimProjectionRow, createProjectionsTable, readProjectionPosition } from "./projection-table.js";

/** A running projection. */
export interface Projection {
  /** Its state now: position, lag, last error (see {@link ProjectionStatus}). */
  status(): ProjectionStatus;
  /**
   * Stops it: the batch being applied commits or rolls back as a whole, the lock is released (another instance takes
   * over), then {@link done} settles.
   */
  stop(): Promise<ProjectionSummary>;
  /** Resolves when stopped; rejects with a {@link ProjectionHandlerError}, or an error no retry can fix. */
  readonly done: Promise<ProjectionSummary>;
}

/** How a projection that was stopped ended. */
export interface ProjectionSummary {
  /** The id of the last entry applied. */
  readonly position: bigint;
  /** Entries this instance applied. */
  readonly applied: number;
}

/** Everything one run shares between taking hold, applying and watching. */
export interface Run<Tx> {
  readonly o: ResolvedProjectionOptions;
  readonly options: ProjectionOptions<Tx>;
  readonly db: ProjectionDatabase<Tx>;
  readonly status: StatusTracker;
  readonly eventStore: Client<typeof EventStoreService>;
  readonly retry: Parameters<typeof untilAnswered>[1];
  readonly holding: Holding;
  /** The position as reported to the Event Store's consumers (already wired into `status`). */
  readonly report: PositionReport;
  /** What the handler's context says besides the position: the projection's name and where its tables are. */
  readonly context: Pick<ProjectionContext, "name" | "table">;
  /**
   * Claims the projection's row once this instance holds the lock: the position to apply after, or `"outdated"` when
   * the row is at another version than this instance's (it must apply nothing).
   */
  claim(hold: Hold): Promise<bigint | "outdated">;
}

/**
 * What a run does with the projection once it holds it: the live projection applies the log until it stops or loses
 * its hold; a rebuild replays it, then switches over and ends the run (`"finished"`). `"outdated"`: the row is at
 * another version, so let go and wait.
 */
export interface RunRole<Tx> {
  readonly context: Run<Tx>["context"];
  claim(run: Run<Tx>, hold: Hold): Promise<bigint | "outdated">;
  whileHolding(run: Run<Tx>, hold: Hold, stop: AbortSignal): Promise<"outdated" | "finished" | void>;
}

/**
 * Starts projecting the Application Log into `db` (see `project()` for the guarantees). Settings are checked before
 * anything connects: a bad option throws here rather than rejecting `done`.
 */
export function runProjection<Tx>(options: ProjectionOptions<Tx>, db: ProjectionDatabase<Tx>): Projection {
  const o = resolveProjectionOptions(options as ProjectionOptions<unknown>);
  let outdatedSaid = false;
  return startRun(o, options, db, {
    context: { name: o.name, table: (base) => base },
    async claim(run) {
      const row = await answeredWithin(
        claimProjectionRow(run.db.sql, o.name, o.version, o.databaseTimeoutMs),
        o.databaseTimeoutMs,
        `projection ${JSON.stringify(o.name)}: claiming its row`,
      );
      if (row.version === o.version) {
        outdatedSaid = false;
        return row.position;
      }
      if (!outdatedSaid) {
        o.logger.warn(
          { projection: o.name, version: o.version, rowVersion: row.version, position: String(row.position) },
          "projection: a rebuild switched it to another version; waiting for an instance of that version",
        );
      }
      outdatedSaid = true;
      return "outdated";
    },
    whileHolding: applyWhileHolding,
  }).projection;
}

/** Starts a run of `role` under the resolved options `o`: the live projection's, or a rebuild's. */
export function startRun<Tx>(
  o: ResolvedProjectionOptions,
  options: ProjectionOptions<Tx>,
  db: ProjectionDatabase<Tx>,
  role: RunRole<Tx>,
): { readonly run: Run<Tx>; readonly projection: Projection } {
  const report = reportPosition(createStatusTracker(o.name), o.report, {
    name: o.name,
    transport: options.transport,
    headers: o.follow.headers,
    timeoutMs: o.follow.unaryTimeoutMs,
    backoff: o.follow.backoff,
    logger: o.logger,
  });
  const status = report.status;
  const stop = new AbortController();
  const userSignal = options.signal;
  const onUserAbort = () => stop.abort(userSignal?.reason);
  if (userSignal?.aborted) onUserAbort();
  userSignal?.addEventListener("abort", onUserAbort, { once: true });
  const log = o.logger;
  const run: Run<Tx> = {
    o,
    options,
    db,
    status,
    eventStore: withLeanLogsPoll(createClient(EventStoreService, options.transport), options.transport),
    retry: {
      backoff: o.follow.backoff,
      onReconnect: (error, delayMs, attempt) => {
        status.error({ message: messageOf(error), entryId: 0n, at: new Date(), transient: true });
        log.warn({ projection: o.name, err: messageOf(error), delayMs, attempt }, "projection: retrying");
      },
    },
    holding: { hold: undefined, lose: () => {} },
    report,
    context: role.context,
    claim: (hold) => role.claim(run, hold),
  };
  const done = runUntilStopped(run, role, stop.signal).then(
    (summary) => {
      status.state("stopped");
      log.info(
        { projection: o.name, position: String(summary.position), applied: summary.applied },
        "projection stopped",
      );
      return summary;
    },
    (error: unknown) => {
      status.state("failed");
      // A failed batch was logged with its entry ids where it failed; anything else (a refused selector, a setup
      // that throws, a database that refuses the projection's own statements) is logged here.
      if (!(error instanceof ProjectionHandlerError)) {
        status.error({ message: messageOf(error), entryId: 0n, at: new Date(), transient: false });
        log.error({ projection: o.name, err: messageOf(error) }, "projection stopped by an error");
      }
      throw error;
    },
  );
  // Settled either way; a caller that never awaits `done` must not crash the process with an unhandled rejection.
  void done.catch(() => {}).finally(() => userSignal?.removeEventListener("abort", onUserAbort));
  const projection: Projection = {
    status: () => status.snapshot(),
    stop: () => {
      stop.abort();
      return done;
    },
    done,
  };
  return { run, projection };
}

async function runUntilStopped<Tx>(run: Run<Tx>, role: RunRole<Tx>, stop: AbortSignal): Promise<ProjectionSummary> {
  const { o, db, status } = run;
  const summary = (): ProjectionSummary => ({
    position: status.snapshot().position,
    applied: status.snapshot().applied,
  });
  const lock = openHolderLock(db.sql, o.name, o.lockRetryMs, o.databaseTimeoutMs);
  const watching = new AbortController();
  const watcher = watchProjection(run, o, watching.signal);
  try {
    const position = await untilAnswered(
      () =>
        answeredWithin(
          (async () => {
            await createProjectionsTable(db.sql);
            return readProjectionPosition(db.sql, o.name);
          })(),
          o.databaseTimeoutMs,
          `projection ${JSON.stringify(o.name)}: reading its position`,
        ),
      run.retry,
      stop,
      isTransientDatabaseError,
    );
    if (position === undefined) return summary();
    status.position(position);
    let waitingSaid = false;
    const onWaiting = () => {
      status.state("waiting");
      if (!waitingSaid) o.logger.info({ projection: o.name }, "projection: another instance holds it; waiting");
      waitingSaid = true;
    };
    while (!stop.aborted) {
      const hold = await untilAnswered(() => lock.acquire(stop, onWaiting), run.retry, stop, isTransientDatabaseError);
      if (hold === undefined) break;
      waitingSaid = false;
      let outcome: Awaited<ReturnType<RunRole<Tx>["whileHolding"]>>;
      try {
        outcome = await role.whileHolding(run, hold, stop);
      } finally {
        // Before the lock goes: once another instance holds it, only that one may report.
        await run.report.letGo();
        await hold.release();
      }
      if (outcome === "finished") break;
      if (outcome === "outdated") {
        // Let go, so that an instance of the row's version can hold it; try again later, in case this one is it.
        status.state("waiting");
        await sleep(o.lockRetryMs, stop);
      }
    }
    return summary();
  } finally {
    watching.abort();
    await watcher;
    await lock.close();
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
