import type { LogEntry } from "../domain/event.js";
import { type LogFilter, matches } from "../domain/selector.js";
import type { Database } from "../storage/database.js";
import type { LogTail } from "./log-tail.js";
import { readLogRange } from "./read-log.js";

const pageSize = 2000;

/** Entries for one stream; `shared` when they come from the tail's memory, where other streams see the same objects. */
export interface LogBatch {
  readonly entries: LogEntry[];
  readonly shared: boolean;
}

/**
 * Every entry passing `filter` from `fromId` on, in id order, as batches: first what is stored (read from the
 * database, or from the shared tail's memory when it still holds it), then each new entry as it commits. Ends when
 * `signal` aborts. Waiting happens only between batches, so a consumer that reads slowly simply pauses this loop.
 */
export async function* streamLog(
  database: Database,
  tail: LogTail,
  fromId: bigint,
  filter: LogFilter,
  signal: AbortSignal,
): AsyncGenerator<LogBatch> {
  let position = fromId < 1n ? 1n : fromId;
  // The next database page, requested before the current one is sent, so the query overlaps the sending.
  let ahead: { from: bigint; head: bigint; page: Promise<LogEntry[]> } | undefined;
  while (!signal.aborted) {
    const recent = tail.readFrom(position, pageSize);
    if (recent === undefined) {
      // Behind the tail's memory: read from the database, bounded by the tail's head (all of it committed).
      const head = ahead?.from === position ? ahead.head : tail.head;
      const page = await (ahead?.from === position
        ? ahead.page
        : readLogRange(database, position, head, filter, pageSize));
      ahead = undefined;
      position = page.length === pageSize ? page.at(-1)!.id + 1n : head + 1n;
      if (page.length === pageSize && tail.readFrom(position, 1) === undefined) {
        ahead = { from: position, head, page: readLogRange(database, position, head, filter, pageSize) };
        ahead.page.catch(() => {}); // awaited on the next turn, where a failure ends the stream
      }
      if (page.length > 0) yield { entries: page, shared: false };
    } else if (recent.length === 0) {
      await tail.changed(signal);
    } else {
      position = recent.at(-1)!.id + 1n;
      const matching = recent.filter((e) => matches(filter, e.event.entityType, e.event.action));
      if (matching.length > 0) yield { entries: matching, shared: true };
    }
  }
}
