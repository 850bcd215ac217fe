import type { LogEntry } from "../domain/event.js";
import { entryBytes } from "./read-log-bytes.js";

/** How many recent entries the tail keeps, and how many of their payload bytes. */
export interface RecentEntriesBounds {
  readonly maxEntries: number;
  readonly maxBytes: number;
}

/**
 * The most recent entries of the log, in id order, bounded by count and by payload bytes: the tail's memory (see
 * log-tail.ts). It holds exactly the entries with `floor < id <= head`.
 *
 * Entries are dropped from the front by moving a start index; the array is cut only once the dropped part outnumbers
 * the live one, so that keeping the bound costs O(1) per entry. (Slicing the whole array on every push copied 20,000
 * entries each time a commit arrived, and the large arrays it allocated cost the process 50,000 page faults a second
 * at 2,000 appends/s.)
 */
export class RecentEntries {
  /** Entries before `first` are dropped (undefined); from `first` on, all present. */
  private entries: (LogEntry | undefined)[] = [];
  private first = 0;
  private bytes = 0;
  private floorId: bigint;
  private headId: bigint;

  constructor(
    head: bigint,
    readonly bounds: RecentEntriesBounds,
  ) {
    this.floorId = head;
    this.headId = head;
  }

  /** Every id up to this has been pushed (or skipped with {@link reset}). */
  get head(): bigint {
    return this.headId;
  }

  /** Entries up to this id are no longer held. */
  get floor(): bigint {
    return this.floorId;
  }

  /** How many entries are held. */
  get size(): number {
    return this.entries.length - this.first;
  }

  /** Forgets every entry and starts again after `head` (nothing at or below it is held). */
  reset(head: bigint): void {
    this.entries = [];
    this.first = 0;
    this.bytes = 0;
    this.floorId = head;
    this.headId = head;
  }

  /**
   * Appends `entries` (ids increasing, all above the head), then drops the oldest until the bounds hold; the newest
   * entry always stays, however large.
   */
  push(entries: readonly LogEntry[]): void {
    if (entries.length === 0) return;
    for (const entry of entries) {
      this.entries.push(entry);
      this.bytes += entry.event.payload.length;
    }
    this.headId = entries.at(-1)!.id;
    let drop = this.first;
    const { maxEntries, maxBytes } = this.bounds;
    while (drop < this.entries.length - 1 && (this.entries.length - drop > maxEntries || this.bytes > maxBytes)) {
      this.bytes -= this.entries[drop]!.event.payload.length;
      drop++;
    }
    if (drop === this.first) return;
    this.floorId = this.entries[drop - 1]!.id;
    this.entries.fill(undefined, this.first, drop); // let the dropped entries go
    this.first = drop;
    if (this.first > this.entries.length - this.first) {
      this.entries = this.entries.slice(this.first);
      this.first = 0;
    }
  }

  /**
   * Entries with id >= `fromId`, at most `limit` and as many as start within `maxBytes` (see `entryBytes`);
   * `undefined` when some of them are no longer held (at or below the floor); empty when there is none yet.
   */
  readFrom(fromId: bigint, limit: number, maxBytes = Infinity): LogEntry[] | undefined {
    if (fromId <= this.floorId) return undefined;
    if (fromId > this.headId) return [];
    let lo = this.first;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.entries[mid]!.id < fromId) lo = mid + 1;
      else hi = mid;
    }
    let end = lo;
    const last = Math.min(this.entries.length, lo + limit);
    for (let bytes = 0; end < last && bytes < maxBytes; end++) bytes += entryBytes(this.entries[end]!);
    return this.entries.slice(lo, end) as LogEntry[]; // at or after `first`: all present
  }
}
