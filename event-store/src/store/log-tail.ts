import type { LogEntry } from "../domain/event.js";
import type { Database } from "../storage/database.js";
import { readLogHead, readLogRange } from "./read-log.js";
import { entryBytes } from "./read-log-bytes.js";

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

/**
 * The one tail of the Application Log per process, shared by every LogsPoll stream.
 *
 * It wakes on NOTIFY (sent by the database when log entries commit, from any process), on local commits, and on a
 * slow fallback timer; reads what is new after `head`; and keeps the most recent entries in a bounded ring. Streams
 * whose position is inside the ring read from memory; a stream that falls behind it (a slow reader, or one catching
 * up) reads from the database instead, so no stream ever makes the server buffer without bound.
 *
 * While no stream waits for new entries, wakes only mark the tail stale: nobody pays for reading entries that no one
 * is waiting for (it cost a third of the append throughput). The first stream to wait catches the tail up.
 *
 * Invariant: the ring holds exactly the entries with `floor < id <= head`, in id order.
 */
export class LogTail {
  private ring: LogEntry[] = [];
  private ringBytes = 0;
  private floorId = 0n;
  private headId = 0n;
  private fetching: Promise<void> | undefined;
  private again = false;
  private waiters = new Set<() => void>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private stale = false;

  constructor(
    private readonly database: Database,
    private readonly options: LogTailOptions,
  ) {}

  /** Reads the current head and starts listening. Entries committed from here on reach the ring. */
  async start(): Promise<void> {
    this.headId = await readLogHead(this.database);
    this.floorId = this.headId;
    await this.database.listen(
      "eskit_app_log",
      () => this.wake(),
      () => this.wake(),
    );
    this.timer = setInterval(() => this.wake(), this.options.fallbackPollMs);
    this.timer.unref();
  }

  /** Every id up to this is committed (or never will be) and has passed through the ring. */
  get head(): bigint {
    return this.headId;
  }

  /**
   * Entries with id >= `fromId` from memory, at most `limit` and as many as start within `maxBytes` (see
   * `entryBytes`); `undefined` when the ring no longer holds all of them (read those from the database). An empty
   * array means "nothing new yet": wait with `changed`.
   */
  readFrom(fromId: bigint, limit: number, maxBytes = Infinity): LogEntry[] | undefined {
    if (fromId <= this.floorId) return undefined;
    if (fromId > this.headId) return [];
    let lo = 0;
    let hi = this.ring.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ring[mid]!.id < fromId) lo = mid + 1;
      else hi = mid;
    }
    let end = lo;
    const last = Math.min(this.ring.length, lo + limit);
    for (let bytes = 0; end < last && bytes < maxBytes; end++) bytes += entryBytes(this.ring[end]!);
    return this.ring.slice(lo, end);
  }

  /**
   * Resolves true when the head moves, false when the tail closes, `signal` aborts or `timeoutMs` passes first (the
   * wait is then forgotten, so periodic waits on a quiet log leave nothing behind).
   */
  changed(signal: AbortSignal, timeoutMs?: number): Promise<boolean> {
    if (this.closed || signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (moved: boolean): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal.removeEventListener("abort", abort);
        resolve(moved);
      };
      const done = (): void => finish(!this.closed);
      const abort = (): void => finish(false);
      this.waiters.add(done);
      signal.addEventListener("abort", abort, { once: true });
      if (timeoutMs !== undefined) timer = setTimeout(abort, timeoutMs);
      if (this.stale) this.wake();
    });
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
      const maxEntries = this.options.maxEntries ?? defaultMaxEntries;
      const head = resync ? await readLogHead(this.database) : this.headId;
      if (head - this.headId > BigInt(maxEntries)) {
        // Far behind (nobody waited for a long while): more than the ring could keep. Jump to the head with an empty
        // ring; streams behind it read from the database, bounded by the new head, which is all committed.
        this.ring = [];
        this.ringBytes = 0;
        this.floorId = head;
        this.headId = head;
        this.notify();
        return;
      }
      for (;;) {
        const entries = await readLogRange(this.database, this.headId + 1n, undefined, {}, fetchSize);
        if (entries.length === 0 || this.closed) return;
        this.push(entries);
        if (entries.length < fetchSize) return;
      }
    } catch (error) {
      this.options.onError?.(error);
    }
  }

  private push(entries: LogEntry[]): void {
    for (const entry of entries) {
      this.ring.push(entry);
      this.ringBytes += entry.event.payload.length;
    }
    this.headId = entries.at(-1)!.id;
    const maxEntries = this.options.maxEntries ?? defaultMaxEntries;
    const maxBytes = this.options.maxBytes ?? 64 * 1024 * 1024;
    let drop = 0;
    while (drop < this.ring.length - 1 && (this.ring.length - drop > maxEntries || this.ringBytes > maxBytes)) {
      this.ringBytes -= this.ring[drop]!.event.payload.length;
      drop++;
    }
    if (drop > 0) {
      this.floorId = this.ring[drop - 1]!.id;
      this.ring = this.ring.slice(drop);
    }
    this.notify();
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
