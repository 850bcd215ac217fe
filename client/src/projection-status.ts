/**
 * Where a projection instance is: `starting` (creating its table, reading its position), `waiting` (another instance
 * holds the projection), `running` (this one holds it and applies entries), `stopped` (by `stop()`), `failed` (a batch
 * failed for good, or the Event Store refused the stream).
 */
export type ProjectionState = "starting" | "waiting" | "running" | "stopped" | "failed";

/** An error the projection met. */
export interface ProjectionErrorInfo {
  readonly message: string;
  /** The first entry of the batch it happened on; 0 when it was not about a batch (taking hold, the log stream). */
  readonly entryId: bigint;
  readonly at: Date;
  /** Retried with backoff (a lost connection, a serialization failure) rather than stopping the projection. */
  readonly transient: boolean;
}

/**
 * A projection instance's state, as plain values to log, serve or turn into metrics (see projection-metrics.ts).
 * `lag` is `head − position`: entries of the log the projection has not passed yet, counting entries its selector
 * skips (as a consumer's lag does); it reaches 0 when the last entry of the log is one the projection applied.
 */
export interface ProjectionStatus {
  readonly name: string;
  readonly state: ProjectionState;
  /** The id of the last log entry applied (committed with its effects); 0 = none. */
  readonly position: bigint;
  /** The id of the latest entry of the log, as last seen (GetHead, or an applied entry); 0 until known. */
  readonly head: bigint;
  readonly lag: bigint;
  /** Entries and batches this instance applied since it started. */
  readonly applied: number;
  readonly batches: number;
  /** Transient errors this instance retried: a lost database or Event Store connection, a serialization failure, ... */
  readonly retries: number;
  readonly lastError: ProjectionErrorInfo | undefined;
}

/** The mutable side of a {@link ProjectionStatus}, kept by the projection as it runs. */
export interface StatusTracker {
  snapshot(): ProjectionStatus;
  state(state: ProjectionState): void;
  position(position: bigint): void;
  head(head: bigint): void;
  applied(position: bigint, entries: number): void;
  error(error: ProjectionErrorInfo): void;
}

/** A status that starts `starting` at position 0, and whose snapshots never change once handed out. */
export function createStatusTracker(name: string): StatusTracker {
  let status: ProjectionStatus = {
    name,
    state: "starting",
    position: 0n,
    head: 0n,
    lag: 0n,
    applied: 0,
    batches: 0,
    retries: 0,
    lastError: undefined,
  };
  const set = (change: Partial<ProjectionStatus>) => {
    const next = { ...status, ...change };
    // An entry applied is in the log: the head is at least there, whatever GetHead said a moment ago.
    const head = next.head > next.position ? next.head : next.position;
    status = { ...next, head, lag: head - next.position };
  };
  return {
    snapshot: () => status,
    state: (state) => set({ state }),
    position: (position) => set({ position }),
    head: (head) => set({ head: head > status.head ? head : status.head }),
    applied: (position, entries) => set({ position, applied: status.applied + entries, batches: status.batches + 1 }),
    error: (error) => set({ lastError: error, retries: status.retries + (error.transient ? 1 : 0) }),
  };
}
