import type { ProjectionStatus } from "./projection-status.js";

/**
 * Where a rebuild is: `starting` (creating its row, resuming or starting over), `waiting` (another rebuild of the same
 * projection runs), `replaying` (applying the log to the fresh tables), `switching` (caught up: the switch-over
 * transaction runs), `switched` (done: the fresh tables are the live ones), `stopped` (by `stop()`, before switching
 * over), `failed`.
 */
export type RebuildPhase = "starting" | "waiting" | "replaying" | "switching" | "switched" | "stopped" | "failed";

/**
 * A rebuild's progress: the status of its own run (named `<name>#rebuild`: its position in the log, the head, the lag,
 * entries applied, errors), plus its phase and pace.
 */
export interface RebuildStatus extends ProjectionStatus {
  readonly phase: RebuildPhase;
  /** Entries applied per second, over the last half minute of replaying (0 until measured). */
  readonly entriesPerSecond: number;
  /**
   * Seconds until the replay reaches the head at the pace of the last half minute (the pace in log ids, so that
   * entries the selector skips count as passed); 0 once there or switched over, undefined until measured or while it
   * does not move.
   */
  readonly etaSeconds: number | undefined;
}

/** Measures a rebuild's pace from samples of its status. */
export interface ProgressMeter {
  /** Records the status now; `running` false forgets the samples (the pace restarts when the replay does). */
  sample(status: ProjectionStatus, running: boolean): void;
  /** The pace and the time left, from the oldest sample of the window to `status`, now. */
  measure(status: ProjectionStatus): Pick<RebuildStatus, "entriesPerSecond" | "etaSeconds">;
}

interface Sample {
  readonly at: number;
  readonly applied: number;
  readonly position: bigint;
}

/** A meter over the last `windowMs` of samples; `now` in ms, monotonic. */
export function createProgressMeter(windowMs = 30_000, now: () => number = () => performance.now()): ProgressMeter {
  let samples: Sample[] = [];
  return {
    sample(status, running) {
      if (!running) {
        samples = [];
        return;
      }
      const at = now();
      samples.push({ at, applied: status.applied, position: status.position });
      // Keep the newest sample older than the window too, so that the window is always covered in full.
      while (samples.length > 2 && samples[1]!.at <= at - windowMs) samples.shift();
    },
    measure(status) {
      const oldest = samples[0];
      const seconds = oldest === undefined ? 0 : (now() - oldest.at) / 1000;
      if (oldest === undefined || seconds <= 0) {
        return { entriesPerSecond: 0, etaSeconds: status.head > 0n && status.lag === 0n ? 0 : undefined };
      }
      const entriesPerSecond = (status.applied - oldest.applied) / seconds;
      // A rate and a ratio: differences of log ids as floats lose nothing that matters to an estimate.
      const idsPerSecond = Number(status.position - oldest.position) / seconds;
      const etaSeconds =
        status.head > 0n && status.lag === 0n ? 0 : idsPerSecond > 0 ? Number(status.lag) / idsPerSecond : undefined;
      return { entriesPerSecond, etaSeconds };
    },
  };
}
