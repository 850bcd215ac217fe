import { and, asc, eq, gte, lte, max, type SQL } from "drizzle-orm";
import type { LogEntry } from "../domain/event.js";
import type { LogFilter } from "../domain/selector.js";
import type { Db } from "../storage/database.js";
import { eventColumns, toStoredEvent } from "../storage/event-rows.js";
import { appLog, events } from "../storage/schema.js";

/** The highest log id committed so far (0 when the log is empty). Every lower id is committed or never will be. */
export async function readLogHead(db: Db): Promise<bigint> {
  const [row] = await db.select({ head: max(appLog.id) }).from(appLog);
  return row?.head ?? 0n;
}

/** Entries with `fromId` <= id <= `toId` that pass the filter, in id order, at most `limit`. */
export async function readLogRange(
  db: Db,
  fromId: bigint,
  toId: bigint | undefined,
  filter: LogFilter,
  limit: number,
): Promise<LogEntry[]> {
  const conditions: SQL[] = [gte(appLog.id, fromId)];
  if (toId !== undefined) conditions.push(lte(appLog.id, toId));
  if (filter.entityType !== undefined) conditions.push(eq(appLog.entityType, filter.entityType));
  if (filter.action !== undefined) conditions.push(eq(appLog.action, filter.action));
  const rows = await db
    .select({ id: appLog.id, ...eventColumns })
    .from(appLog)
    .innerJoin(events, eq(events.seq, appLog.eventSeq))
    .where(and(...conditions))
    .orderBy(asc(appLog.id))
    .limit(limit);
  return rows.map((row) => ({ id: row.id, event: toStoredEvent(row) }));
}

export interface LogPage {
  readonly entries: LogEntry[];
  /** Where the next page starts: no gap and no overlap, however much the filter skips. */
  readonly nextFromId: bigint;
}

/**
 * One page of the log. The head is read first and the page is bounded by it: every id up to the head is already
 * committed, so when the page is not full the reader may safely jump past the head, skipping the unmatched entries
 * without ever skipping one that commits later.
 */
export async function readLogPage(db: Db, fromId: bigint, filter: LogFilter, size: number): Promise<LogPage> {
  const from = fromId < 1n ? 1n : fromId;
  const head = await readLogHead(db);
  if (head < from) return { entries: [], nextFromId: from };
  const entries = await readLogRange(db, from, head, filter, size);
  const last = entries.at(-1);
  return { entries, nextFromId: entries.length === size && last !== undefined ? last.id + 1n : head + 1n };
}
