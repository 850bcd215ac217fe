import type { ByteBudget } from "@eskit/server-kit/limits/byte-budget.js";
import type { LogEntry } from "../domain/event.js";
import { type LogFilter, matches } from "../domain/selector.js";
import type { Database } from "../storage/database.js";
import type { LogTail } from "./log-tail.js";
import { type BoundedPage, entryBytes, type KeepRow, readLogBounded } from "./read-log-bytes.js";

const pageSize = 2000;
/**
 * The first batch of a stream; each batch its consumer takes doubles the next, up to `batchBytes`. Small, since a
 * client that never reads holds it (and its copies in the transport) for as long as it stays.
 */
const firstBatchBytes = 16 * 1024;
/**
 * Bytes a stream sends before its batches start to grow. The transport takes the first ones whether the client reads
 * or not (an HTTP/2 stream's flow-control window is 64 KiB by default; socket buffers take more), so their being taken
 * proves nothing: growing on them left a 64 KiB batch, and its copies, stuck in each unread HTTP/2 stream.
 */
const growAfterBytes = 256 * 1024;

/** Entries for one stream; `shared` when they come from the tail's memory, where other streams see the same objects. */
export interface LogBatch {
  /** Empty for a heartbeat: nothing passed the filter for `heartbeatMs`. */
  readonly entries: LogEntry[];
  readonly shared: boolean;
}

/** How much one stream may hold, and how often it speaks when there is nothing to say. */
export interface StreamLogOptions {
  /** Most bytes (estimated, see read-log-bytes.ts) of entries in one batch; a larger entry comes alone. */
  readonly batchBytes: number;
  /**
   * Bytes shared by every stream of the process: a batch takes its bytes before it is read and gives them back when
   * the consumer asks for the next batch (its transport took this one), so all streams together hold at most
   * `budget.total` bytes of entries their clients have not taken. A stream waits for its share.
   */
  readonly budget: ByteBudget;
  /** After this long without a batch, an empty one (a heartbeat), in ms; 0 = never. */
  readonly heartbeatMs: number;
  /** How a database row is kept until it is sent (by default as its row, whose event is built when asked for). */
  readonly keepRow?: KeepRow;
}

/**
 * Every entry passing `filter` from `fromId` on, in id order, as batches: first what is stored (read from the
 * database, or from the shared tail's memory when it still holds it), then each new entry as it commits. Ends when
 * `signal` aborts.
 *
 * Pull-driven: the next batch is read only when the consumer asks for it, i.e. once the transport has taken the
 * previous one, so a client that does not read costs one batch. Batches start small and, once the client has taken
 * more than its transport would take unread (`growAfterBytes`), double with every batch it takes (as TCP's slow
 * start): a client that never reads holds 16 KiB, one that keeps up gets large pages
 * (and, budget permitting, the next page read ahead: at most two per stream).
 */
export async function* streamLog(
  database: Database,
  tail: LogTail,
  fromId: bigint,
  filter: LogFilter,
  signal: AbortSignal,
  options: StreamLogOptions,
): AsyncGenerator<LogBatch> {
  let position = fromId < 1n ? 1n : fromId;
  let lastSent = performance.now();
  let batchBytes = Math.min(firstBatchBytes, options.batchBytes);
  let sentBytes = 0;
  // The next database page, read while the current one is sent, so the query overlaps the sending. Only for a client
  // that has shown it keeps up (its batches grew to full size) and only with bytes free in the budget right away: a
  // client that does not read never has a page read ahead for it.
  let ahead: { from: bigint; head: bigint; held: number; page: Promise<BoundedPage> } | undefined;
  const waiter = tail.waiter(signal);
  const heartbeatDue = (): boolean => options.heartbeatMs > 0 && performance.now() - lastSent >= options.heartbeatMs;
  try {
    while (!signal.aborted) {
      let held: number;
      let prefetched: { head: bigint; page: Promise<BoundedPage> } | undefined;
      if (ahead !== undefined && ahead.from === position) {
        ({ held } = ahead);
        prefetched = ahead;
        ahead = undefined;
      } else {
        if (ahead !== undefined) options.budget.give(ahead.held);
        ahead = undefined;
        held = await options.budget.take(batchBytes, signal);
      }
      const giveBack = (bytes: number): void => {
        options.budget.give(bytes);
        held -= bytes;
      };
      try {
        if (signal.aborted) break;
        let entries: LogEntry[];
        let shared = false;
        const recent = prefetched === undefined ? tail.readFrom(position, pageSize, held) : undefined;
        if (recent === undefined) {
          // Behind the tail's memory: read from the database, bounded by the tail's head (all of it committed).
          const head = prefetched?.head ?? tail.head;
          const page = await (prefetched?.page ??
            readLogBounded(database, position, head, filter, pageSize, held, options.keepRow));
          entries = page.entries;
          position = page.complete ? head + 1n : page.entries.at(-1)!.id + 1n;
          giveBack(Math.max(0, held - page.bytes));
          if (!page.complete && batchBytes === options.batchBytes && tail.readFrom(position, 1) === undefined) {
            const extra = options.budget.tryTake(batchBytes);
            if (extra > 0) {
              const next = readLogBounded(database, position, head, filter, pageSize, extra, options.keepRow);
              next.catch(() => {}); // awaited on the next turn, where a failure ends the stream
              ahead = { from: position, head, held: extra, page: next };
            }
          }
        } else if (recent.length === 0) {
          giveBack(held);
          const woke = await waiter.changed(options.heartbeatMs > 0 ? nextBeat(lastSent, options) : undefined);
          if (!woke && !signal.aborted && heartbeatDue()) {
            lastSent = performance.now();
            yield { entries: [], shared: true };
          }
          continue;
        } else {
          position = recent.at(-1)!.id + 1n;
          entries = recent.filter((e) => matches(filter, e.event.entityType, e.event.action));
          shared = true;
          giveBack(Math.max(0, held - entries.reduce((sum, e) => sum + entryBytes(e), 0)));
        }
        if (entries.length > 0 || heartbeatDue()) {
          lastSent = performance.now();
          yield { entries, shared };
          if (sentBytes >= growAfterBytes) batchBytes = Math.min(batchBytes * 2, options.batchBytes);
          else sentBytes += entries.reduce((sum, e) => sum + entryBytes(e), 0);
        }
      } finally {
        if (held > 0) options.budget.give(held);
      }
    }
  } finally {
    waiter.close();
    if (ahead !== undefined) options.budget.give(ahead.held);
  }
}

function nextBeat(lastSent: number, options: StreamLogOptions): number {
  return Math.max(1, lastSent + options.heartbeatMs - performance.now());
}

/**
 * The stream of a filter that can match nothing: no entry ever, only heartbeats every `heartbeatMs` (none when 0),
 * until `signal` aborts. Ends at once when `signal` has already aborted.
 */
export async function* streamNothing(signal: AbortSignal, heartbeatMs: number): AsyncGenerator<LogBatch> {
  while (!signal.aborted) {
    const beat = await new Promise<boolean>((resolve) => {
      const timer = heartbeatMs > 0 ? setTimeout(() => finish(true), heartbeatMs) : undefined;
      const finish = (due: boolean): void => {
        clearTimeout(timer);
        signal.removeEventListener("abort", abort);
        resolve(due);
      };
      const abort = (): void => finish(false);
      signal.addEventListener("abort", abort, { once: true });
    });
    if (beat && !signal.aborted) yield { entries: [], shared: true };
  }
}
