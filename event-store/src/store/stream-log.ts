import type { LogEntry } from "../domain/event.js";
import { type LogFilter, matches } from "../domain/selector.js";
import type { Database } from "../storage/database.js";
import type { LogTail } from "./log-tail.js";
import { readLogRange } from "./read-log.js";

const pageSize = 1000;

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
): AsyncGenerator<LogEntry[]> {
  let position = fromId < 1n ? 1n : fromId;
  while (!signal.aborted) {
    const recent = tail.readFrom(position, pageSize);
    if (recent === undefined) {
      // Behind the tail's memory: read from the database, bounded by the tail's head (all of it committed).
      const head = tail.head;
      const page = await readLogRange(database, position, head, filter, pageSize);
      if (page.length > 0) yield page;
      position = page.length === pageSize ? page.at(-1)!.id + 1n : head + 1n;
    } else if (recent.length === 0) {
      await tail.changed(signal);
    } else {
      position = recent.at(-1)!.id + 1n;
      const matching = recent.filter((e) => matches(filter, e.event.entityType, e.event.action));
      if (matching.length > 0) yield matching;
    }
  }
}
