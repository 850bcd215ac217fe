import type { ValidEvent } from "../domain/validate-append.js";
import type { Database } from "../storage/database.js";
import { isCancelled, isConnectionError } from "../storage/errors.js";
import { type AppendOutcome, appendBatch } from "./append-batch.js";
import type { WrittenRequest } from "./committed-entries.js";
import { whenAllAborted } from "./when-all-aborted.js";

interface Pending {
  readonly events: readonly ValidEvent[];
  readonly signal: AbortSignal | undefined;
  resolve(logIds: bigint[]): void;
  reject(error: unknown): void;
  /** Forgets the request's signal (it is in a batch now, or settled). */
  unlisten(): void;
}

/** How long a batch cancelled for its callers' deadlines may keep its turn before it counts as stuck. */
const abandonAfterMs = 500;

export interface AppendBatcherOptions {
  /** Transactions that may run at once; requests arriving while all are busy wait and share the next commit. */
  readonly parallelism: number;
  /** A batch takes queued requests until it holds this many events (a larger single request still runs alone). */
  readonly maxBatchEvents: number;
  /**
   * Called after every batch, before its callers are answered, so that the local log tail has the new entries at
   * once: with the requests the batch wrote, their events and log ids (none when all of them were rejected or replays
   * of events already stored).
   */
  readonly onCommit: (written: readonly WrittenRequest[]) => void;
  /** How a batch is written: {@link appendBatch} (one checked statement) unless told otherwise. */
  readonly write?: AppendBatchWriter;
}

/** Writes one batch of requests atomically and says what became of each (see {@link appendBatch}). */
export type AppendBatchWriter = (
  database: Database,
  requests: readonly (readonly ValidEvent[])[],
  signal: AbortSignal,
) => Promise<AppendOutcome[]>;

/**
 * Group commit: concurrent Append requests are queued and written several to a transaction. Under light load a
 * request runs at once in its own transaction; under heavy load one commit (one WAL flush, one turn of the log
 * lock) serves many requests, which is what lets many small appends keep up with raw INSERTs.
 *
 * Deadlines: a request whose signal aborts (its deadline passed, its client left) while it waits in the queue is
 * dropped before it is sent. A batch shares one statement among requests with different deadlines, so it is
 * cancelled in PostgreSQL only once every one of its requests has aborted (the latest deadline): until then a request
 * past its deadline may still be committed with the others, though its caller was already answered
 * `deadline_exceeded` (as with any write whose answer is lost; a retry with the same event ids is answered with the
 * original log ids). A batch written by COPY (append-batch.ts) is not cancelled at all once it has begun.
 */
export class AppendBatcher {
  private readonly queue: Pending[] = [];
  private running = 0;
  private idle: Array<() => void> = [];

  constructor(
    private readonly database: Database,
    private readonly options: AppendBatcherOptions,
  ) {}

  /**
   * Appends one request's events atomically; resolves with their log ids once committed. When `signal` aborts
   * before the request is sent it is dropped and rejects with the signal's reason.
   */
  append(events: readonly ValidEvent[], signal?: AbortSignal): Promise<bigint[]> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        const at = this.queue.indexOf(pending);
        if (at < 0) return;
        this.queue.splice(at, 1);
        reject(signal!.reason);
      };
      const pending: Pending = {
        events,
        signal,
        resolve,
        reject,
        unlisten: () => signal?.removeEventListener("abort", onAbort),
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.queue.push(pending);
      this.pump();
    });
  }

  /** Resolves when every queued and running request has finished (or was abandoned on a silent connection). */
  async drain(): Promise<void> {
    if (this.running === 0 && this.queue.length === 0) return;
    await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  private pump(): void {
    while (this.running < this.options.parallelism && this.queue.length > 0) {
      const batch = this.takeBatch();
      this.running++;
      let yielded = false;
      const yieldTurn = (): void => {
        if (yielded) return;
        yielded = true;
        this.running--;
        if (this.queue.length > 0) this.pump();
        else if (this.running === 0) for (const resolve of this.idle.splice(0)) resolve();
      };
      void this.run(batch, yieldTurn).finally(yieldTurn);
    }
  }

  private takeBatch(): Pending[] {
    const batch = [this.queue.shift()!];
    batch[0]!.unlisten();
    let size = batch[0]!.events.length;
    while (this.queue.length > 0 && size + this.queue[0]!.events.length <= this.options.maxBatchEvents) {
      const next = this.queue.shift()!;
      next.unlisten();
      size += next.events.length;
      batch.push(next);
    }
    return batch;
  }

  /**
   * Runs one batch. `yieldTurn` gives its turn (a slot of `parallelism`) to the next batch before it ends: when every
   * caller is gone and its statement did not end within {@link abandonAfterMs} of the cancel, it sits on a connection
   * that went silent (the cancel request cannot get through either), and it must not hold back the appends that come
   * after it; that connection stays the pool's until it fails.
   */
  private async run(batch: Pending[], yieldTurn: () => void = () => {}): Promise<void> {
    const everyoneGone = whenAllAborted(batch.map((p) => p.signal));
    let abandon: NodeJS.Timeout | undefined;
    const onGone = (): void => {
      abandon = setTimeout(yieldTurn, abandonAfterMs);
    };
    everyoneGone.signal.addEventListener("abort", onGone, { once: true });
    let outcomes: AppendOutcome[];
    try {
      outcomes = await (this.options.write ?? appendBatch)(
        this.database,
        batch.map((p) => p.events),
        everyoneGone.signal,
      );
    } catch (error) {
      if (everyoneGone.signal.aborted) {
        // Cancelled because every caller was gone: each was answered already; the reasons only settle the promises.
        for (const p of batch) p.reject(p.signal?.reason ?? error);
        return;
      }
      const lost = isConnectionError(error) || isCancelled(error);
      if (batch.length > 1 && !lost) {
        // Something in one request broke the shared transaction: run them alone, so only that request fails.
        await Promise.all(batch.map((p) => this.run([p])));
        return;
      }
      // Each caller gets the driver's error; rpc/connect-errors.ts makes a lost connection (or a cancel that was not
      // ours, an operator's pg_cancel_backend) `unavailable`, in the one place where errors become codes.
      for (const p of batch) p.reject(error);
      return;
    } finally {
      everyoneGone.dispose();
      everyoneGone.signal.removeEventListener("abort", onGone);
      clearTimeout(abandon);
    }
    const written: WrittenRequest[] = [];
    for (let i = 0; i < batch.length; i++) {
      const outcome = outcomes[i]!;
      if ("written" in outcome && outcome.written) written.push({ events: batch[i]!.events, logIds: outcome.logIds });
    }
    this.options.onCommit(written);
    batch.forEach((p, i) => {
      const outcome = outcomes[i]!;
      if ("error" in outcome) p.reject(outcome.error);
      else p.resolve(outcome.logIds);
    });
  }
}
