import { UnavailableError } from "../domain/errors.js";
import type { ValidEvent } from "../domain/validate-append.js";
import type { Database } from "../storage/database.js";
import { isConnectionError } from "../storage/errors.js";
import { type AppendOutcome, appendBatch } from "./append-batch.js";

interface Pending {
  readonly events: readonly ValidEvent[];
  resolve(logIds: bigint[]): void;
  reject(error: unknown): void;
}

export interface AppendBatcherOptions {
  /** Transactions that may run at once; requests arriving while all are busy wait and share the next commit. */
  readonly parallelism: number;
  /** A batch takes queued requests until it holds this many events (a larger single request still runs alone). */
  readonly maxBatchEvents: number;
  /**
   * Called after every batch, so the local log tail can look for the new entries at once; with how many requests and
   * events the batch wrote (0 and 0 when all of them were rejected or replays of events already stored).
   */
  readonly onCommit: (requests: number, events: number) => void;
}

/**
 * Group commit: concurrent Append requests are queued and written several to a transaction. Under light load a
 * request runs at once in its own transaction; under heavy load one commit (one WAL flush, one turn of the log
 * lock) serves many requests, which is what lets many small appends keep up with raw INSERTs.
 */
export class AppendBatcher {
  private readonly queue: Pending[] = [];
  private running = 0;
  private idle: Array<() => void> = [];

  constructor(
    private readonly database: Database,
    private readonly options: AppendBatcherOptions,
  ) {}

  /** Appends one request's events atomically; resolves with their log ids once committed. */
  append(events: readonly ValidEvent[]): Promise<bigint[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ events, resolve, reject });
      this.pump();
    });
  }

  /** Resolves when every queued and running request has finished. */
  async drain(): Promise<void> {
    if (this.running === 0 && this.queue.length === 0) return;
    await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  private pump(): void {
    while (this.running < this.options.parallelism && this.queue.length > 0) {
      const batch = this.takeBatch();
      this.running++;
      void this.run(batch).finally(() => {
        this.running--;
        if (this.queue.length > 0) this.pump();
        else if (this.running === 0) for (const resolve of this.idle.splice(0)) resolve();
      });
    }
  }

  private takeBatch(): Pending[] {
    const batch = [this.queue.shift()!];
    let size = batch[0]!.events.length;
    while (this.queue.length > 0 && size + this.queue[0]!.events.length <= this.options.maxBatchEvents) {
      const next = this.queue.shift()!;
      size += next.events.length;
      batch.push(next);
    }
    return batch;
  }

  private async run(batch: Pending[]): Promise<void> {
    let outcomes: AppendOutcome[];
    try {
      outcomes = await appendBatch(
        this.database,
        batch.map((p) => p.events),
      );
    } catch (error) {
      if (batch.length > 1 && !isConnectionError(error)) {
        // Something in one request broke the shared transaction: run them alone, so only that request fails.
        await Promise.all(batch.map((p) => this.run([p])));
        return;
      }
      const failure = isConnectionError(error)
        ? new UnavailableError(`the database is unavailable: ${(error as Error).message}`, { cause: error })
        : error;
      for (const p of batch) p.reject(failure);
      return;
    }
    let requests = 0;
    let events = 0;
    for (let i = 0; i < batch.length; i++) {
      const outcome = outcomes[i]!;
      if ("written" in outcome && outcome.written) {
        requests++;
        events += batch[i]!.events.length;
      }
    }
    this.options.onCommit(requests, events);
    batch.forEach((p, i) => {
      const outcome = outcomes[i]!;
      if ("error" in outcome) p.reject(outcome.error);
      else p.resolve(outcome.logIds);
    });
  }
}
