import { transactionOn } from "./postgres-transaction.js";
import type { ProjectionDatabase } from "./projection-batch.js";
import { LostHoldError } from "./projection-errors.js";
import type { Hold } from "./projection-lock.js";
import { replayThenSwitch } from "./projection-rebuild-holding.js";
import { resolveRebuildOptions, type RebuildOptions, type ResolvedRebuild } from "./projection-rebuild-options.js";
import { createProgressMeter, type RebuildPhase, type RebuildStatus } from "./projection-rebuild-progress.js";
import { startRun, type ProjectionSummary } from "./projection-run.js";
import type { ProjectionStatus } from "./projection-status.js";
import { dropFreshTables, freshTablesExist } from "./projection-swap-tables.js";
import { claimProjectionRow, lockProjectionRow } from "./projection-table.js";

/** A running rebuild. */
export interface Rebuild {
  /** Its progress now: phase, position, head, entries applied, entries/s, ETA (see {@link RebuildStatus}). */
  status(): RebuildStatus;
  /**
   * Stops it before it switches over (the batch in flight commits or rolls back whole; a switch-over in flight
   * commits or rolls back whole too): the live tables are untouched, and a later rebuild resumes where this one
   * stopped. Then {@link done} settles.
   */
  stop(): Promise<RebuildSummary>;
  /** Resolves once switched over or stopped; rejects as a projection's `done` does. */
  readonly done: Promise<RebuildSummary>;
}

/** How a rebuild ended. */
export interface RebuildSummary extends ProjectionSummary {
  /** Whether it switched over: then `position` is the live projection's new position. */
  readonly switched: boolean;
}

/**
 * Starts rebuilding projection `options.name` into fresh tables (see `rebuild()` for what it does and promises).
 * Settings are checked before anything connects.
 */
export function runRebuild<Tx>(options: RebuildOptions<Tx>, db: ProjectionDatabase<Tx>): Rebuild {
  const r = resolveRebuildOptions(options as RebuildOptions<unknown>);
  const { o } = r;
  const log = o.logger;
  let phase: "replaying" | "switching" | "switched" = "replaying";
  let startOverPending = r.startOver;
  const { run, projection } = startRun(o, options, db, {
    context: { name: r.live, table: r.freshName },
    claim: async (run, hold) => {
      const row = await claimProjectionRow(db.sql, o.name, o.version);
      const startOver = async (): Promise<string | undefined> => {
        if (startOverPending) return "startOver";
        if (row.version !== o.version) return `it was built by version ${JSON.stringify(row.version)}`;
        if (row.position > 0n && !(await freshTablesExist(db.sql, r.tables))) return "its tables are gone";
        return undefined;
      };
      const reason = await startOver();
      if (reason === undefined && row.position > 0n) {
        log.info({ projection: o.name, position: String(row.position) }, "projection: resuming the rebuild");
        return row.position;
      }
      // From the first entry, with no table left from before (at position 0 none should hold anything, but a table
      // left by hand would be counted twice).
      try {
        await resetRebuild(db, r, hold);
      } catch (error) {
        // Another instance may hold the rebuild now, and replay into those tables: let go, and wait for the lock.
        if (error instanceof LostHoldError) return "outdated";
        throw error;
      }
      startOverPending = false;
      run.status.position(0n);
      if (reason !== undefined) {
        log.info({ projection: o.name, reason }, "projection: starting the rebuild over from the first entry");
      }
      return 0n;
    },
    whileHolding: (run, hold, stop) => {
      // A switch-over that lost its hold goes back to replaying, with the next holding.
      phase = "replaying";
      return replayThenSwitch(
        run,
        r,
        {
          switching: () => void (phase = "switching"),
          switched: (switched) => {
            phase = "switched";
            if (switched === "gone") {
              log.info({ projection: o.name, live: r.live }, "projection: the rebuild had switched over already");
              return;
            }
            run.status.applied(switched.position, switched.applied);
            log.info(
              {
                projection: o.name,
                live: r.live,
                position: String(switched.position),
                livePosition: String(switched.livePosition),
                appliedAtSwitch: switched.applied,
                applied: run.status.snapshot().applied,
              },
              "projection: rebuild switched over: the new tables are live",
            );
          },
        },
        hold,
        stop,
      );
    },
  });

  const meter = createProgressMeter();
  const phaseOf = (status: ProjectionStatus): RebuildPhase => {
    if (phase === "switched") return "switched";
    if (status.state === "running") return phase;
    return status.state;
  };
  const status = (): RebuildStatus => {
    const current = run.status.snapshot();
    const phaseNow = phaseOf(current);
    const pace = phaseNow === "switched" ? { entriesPerSecond: 0, etaSeconds: 0 } : meter.measure(current);
    return { ...current, phase: phaseNow, ...pace };
  };
  const progress = () => {
    const current = status();
    if (options.onProgress !== undefined) {
      try {
        options.onProgress(current);
      } catch (error) {
        log.warn(
          { projection: o.name, err: error instanceof Error ? error.message : String(error) },
          "onProgress threw",
        );
      }
    }
    return current;
  };
  const ticker = setInterval(() => {
    const current = progress();
    meter.sample(run.status.snapshot(), current.phase === "replaying");
    if (current.phase !== "replaying") return;
    log.info(
      {
        projection: o.name,
        position: String(current.position),
        head: String(current.head),
        applied: current.applied,
        entriesPerSecond: Math.round(current.entriesPerSecond),
        etaSeconds: current.etaSeconds === undefined ? null : Math.ceil(current.etaSeconds),
      },
      "projection: rebuilding",
    );
  }, o.statusIntervalMs);
  ticker.unref?.();
  const done = projection.done.then((summary): RebuildSummary => ({
    position: summary.position,
    applied: summary.applied,
    switched: phase === "switched",
  }));
  void done
    .catch(() => {})
    .finally(() => {
      clearInterval(ticker);
      progress();
    });
  return {
    status,
    stop: async () => {
      await projection.stop().catch(() => {});
      return done;
    },
    done,
  };
}

/** Drops the rebuild's fresh tables and moves its row back to 0 at the rebuild's version, fenced by its hold. */
async function resetRebuild<Tx>(db: ProjectionDatabase<Tx>, r: ResolvedRebuild, hold: Hold): Promise<void> {
  await transactionOn(db.sql, async (tx) => {
    const row = await lockProjectionRow(tx, r.o.name, hold);
    if (row === undefined || !row.held) {
      throw new LostHoldError(`projection ${JSON.stringify(r.o.name)}: this instance no longer holds its lock`);
    }
    await dropFreshTables(tx, r.tables);
    await tx`
      update eskit_projections
      set position = 0, version = ${r.o.version}, updated_at = now(),
        last_error = null, last_error_entry_id = null, last_error_at = null
      where name = ${r.o.name}`;
  });
}
