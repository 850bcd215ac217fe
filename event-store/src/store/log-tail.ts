import type { LogEntry } from "../domain/event.js";
import type { Database } from "../storage/database.js";
import { committedEntries, firstLogId, type WrittenRequest } from "./committed-entries.js";
import { readLogHead, readLogRange } from "./read-log.js";
import { RecentEntries } from "./recent-entries.js";

export interface LogTailOptions {
  /** How often to look for new entries when no notification came (a lost NOTIFY costs at most this much delay). */
  readonly fallbackPollMs: number;
  /** Recent entries kept in memory for live readers. */
  readonly maxEntries?: number;
  readonly maxBytes?: number;
  /** Told of every failed fetch (the tail retries on its own). */
  readonly onError?: (error: unknown) => void;
}

const fetchSize = 5000;
const defaultMaxEntries = 20_000;

/** A stream's waits for new entries (see {@link LogTail.waiter}). */
export interface TailWaiter {
  /** Resolves true when the head moves, false when the tail closes, the stream's signal aborts or `timeoutMs` passes. */
  changed(timeoutMs?: number): Promise<boolean>;
  /** Ends a pending wait (false) and stops listening to the stream's signal. */
  close(): void;
}

/**
 * The one tail of the Application Log per process, shared by every LogsPoll stream.
 *
 * It wakes on NOTIFY (sent by the database when log entries commit, from any process) and on a slow fallback timer;
 * reads what is new after `head`; and keeps the most recent entries in a bounded ring. Entries this process commits
 * go into the ring as their commit returns, with no read, when they directly follow the head (see {@link committed});
 * the NOTIFY of such a commit names a log id the ring holds already, and costs nothing. Streams
 * whose position is inside the ring read from memory; a stream that falls behind it (a slow reader, or one catching
 * up) reads from the database instead, so no stream ever makes the server buffer without bound.
 *
 * While no stream waits for new entries, wakes only mark the tail stale: nobody pays for reading entries that no one
 * is waiting for (it cost a third of the append throughput). The first stream to wait catches the tail up.
 *
 * Invariant: the ring holds exactly the entries with `floor < id <= head`, in id order (recent-entries.ts).
 */
export class LogTail {
  private readonly ring: RecentEntries;
  private fetching: Promise<void> | undefined;
  private again = false;
  private waiters = new Set<() => void>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private stale = false;

  constructor(
    private readonly database: Database,
    private readonly options: LogTailOptions,
  ) {
    this.ring = new RecentEntries(0n, {
      maxEntries: options.maxEntries ?? defaultMaxEntries,
      maxBytes: options.maxBytes ?? 64 * 1024 * 1024,
    });
  }

  /** Reads the current head and starts listening. Entries committed from here on reach the ring. */
  async start(): Promise<void> {
    this.ring.reset(await readLogHead(this.database));
    await this.database.listen(
      "eskit_app_log",
      (payload) => this.notified(payload),
      () => this.wake(),
    );
    this.timer = setInterval(() => this.wake(), this.options.fallbackPollMs);
    this.timer.unref();
  }

  /** Every id up to this is committed (or never will be) and has passed through the ring. */
  get head(): bigint {
    return this.ring.head;
  }

  /**
   * Entries with id >= `fromId` from memory, at most `limit` and as many as start within `maxBytes` (see
   * `entryBytes`); `undefined` when the ring no longer holds all of them (read those from the database). An empty
   * array means "nothing new yet": wait with `changed`.
   */
  readFrom(fromId: bigint, limit: number, maxBytes = Infinity): LogEntry[] | undefined {
    return this.ring.readFrom(fromId, limit, maxBytes);
  }

  /**
   * Resolves true when the head moves, false when the tail closes, `signal` aborts or `timeoutMs` passes first (the
   * wait is then forgotten, so periodic waits on a quiet log leave nothing behind). For one wait; a stream that waits
   * again and again takes a {@link waiter}.
   */
  async changed(signal: AbortSignal, timeoutMs?: number): Promise<boolean> {
    const waiter = this.waiter(signal);
    try {
      return await waiter.changed(timeoutMs);
    } finally {
      waiter.close();
    }
  }

  /**
   * Waits of one stream, whose `signal` ends them all: it is listened to once, not once per wait (a live stream waits
   * once per commit, and adding and removing an abort listener each time showed in the profile of 100 live streams).
   */
  waiter(signal: AbortSignal): TailWaiter {
    let resolve: ((moved: boolean) => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    const finish = (moved: boolean): void => {
      if (resolve === undefined) return;
      const settle = resolve;
      resolve = undefined;
      clearTimeout(timer);
      this.waiters.delete(onMoved);
      settle(moved);
    };
    const onMoved = (): void => finish(!this.closed);
    const abort = (): void => finish(false);
    signal.addEventListener("abort", abort, { once: true });
    return {
      close: () => {
        finish(false);
        signal.removeEventListener("abort", abort);
      },
      changed: (timeoutMs) => {
        if (this.closed || signal.aborted) return Promise.resolve(false);
        finish(false); // a wait still pending (its caller stopped waiting for it) ends here
        return new Promise((settle) => {
          resolve = settle;
          this.waiters.add(onMoved);
          if (timeoutMs !== undefined) timer = setTimeout(finish, timeoutMs, false);
          if (this.stale) this.wake();
        });
      },
    };
  }

  /**
   * Entries this process has just committed (`written`: the batch's requests, with their log ids), before their
   * callers are answered. When the lowest id directly follows the head they go into the ring at once: the log's lock
   * (migration 0003) is held from before an append draws its first id until it commits, so every id below the
   * batch's is final by then (committed, or never to exist), and none is left between the head and the batch, whose
   * own ids no other writer can take a share of. Otherwise (another process wrote in between, a rolled-back append
   * left a gap, two of this process's commits came back out of order) the tail reads, as on a NOTIFY. While no
   * stream waits, nothing is built: the tail is only marked stale.
   */
  committed(written: readonly WrittenRequest[]): void {
    const first = firstLogId(written);
    if (first === undefined || this.closed) return;
    if (this.waiters.size === 0 || this.stale || first !== this.ring.head + 1n) {
      this.wake();
      return;
    }
    let entries: LogEntry[];
    try {
      entries = committedEntries(written);
    } catch (error) {
      // Never expected; the callers are answered right after this, and the tail reads the entries instead.
      this.options.onError?.(error);
      this.wake();
      return;
    }
    this.push(entries);
  }

  /**
   * A NOTIFY: its payload is the last log id drawn when the entries committed (migration 0004), so one the ring has
   * passed brings nothing new. Any other payload (an older trigger's empty one) wakes the tail.
   */
  private notified(payload: string): void {
    if (/^[0-9]{1,19}$/u.test(payload) && BigInt(payload) <= this.ring.head) return;
    this.wake();
  }

  /** Asks the tail to look for new entries now. Calls while a fetch runs coalesce into one more fetch. */
  wake(): void {
    if (this.closed) return;
    if (this.waiters.size === 0) {
      this.stale = true;
      return;
    }
    const resync = this.stale;
    this.stale = false;
    if (this.fetching !== undefined) {
      this.again = true;
      return;
    }
    this.fetching = this.fetchNew(resync).finally(() => {
      this.fetching = undefined;
      if (this.again) {
        this.again = false;
        this.wake();
      }
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.fetching;
    for (const waiter of [...this.waiters]) waiter();
  }

  private async fetchNew(resync: boolean): Promise<void> {
    try {
      const head = resync ? await readLogHead(this.database) : this.ring.head;
      if (head - this.ring.head > BigInt(this.ring.bounds.maxEntries)) {
        // Far behind (nobody waited for a long while): more than the ring could keep. Jump to the head with an empty
        // ring; streams behind it read from the database, bounded by the new head, which is all committed.
        this.ring.reset(head);
        this.notify();
        return;
      }
      for (;;) {
        const read = await readLogRange(this.database, this.ring.head + 1n, undefined, {}, fetchSize);
        if (this.closed) return;
        // The ring may have taken this process's own commits meanwhile (committed): only what lies past its head.
        const head = this.ring.head;
        const entries = read.length > 0 && read[0]!.id <= head ? read.filter((entry) => entry.id > head) : read;
        this.push(entries);
        if (read.length < fetchSize) return;
      }
    } catch (error) {
      this.options.onError?.(error);
    }
  }

  private push(entries: LogEntry[]): void {
    if (entries.length === 0) return;
    this.ring.push(entries);
    this.notify();
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
