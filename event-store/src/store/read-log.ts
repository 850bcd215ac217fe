import type { LogEntry } from "../domain/event.js";
import type { LogFilter } from "../domain/selector.js";
import type { Database } from "../storage/database.js";
import { type EventRowText, eventRowTextColumns, fromEventRowText } from "../storage/event-row-text.js";
import { ev } from "../storage/sql-names.js";

/** The highest log id committed so far (0 when the log is empty). Every lower id is committed or never will be. */
export async function readLogHead(database: Database, signal?: AbortSignal): Promise<bigint> {
  const [row] = await database.query<{ head: string | null }>(
    `select max(${ev.logId})::text as head from ${ev.$}`,
    [],
    signal,
  );
  return BigInt(row?.head ?? 0);
}

// One fixed (prepared) text per filter shape, so each shape gets its own plan: by log id (the primary key), or by
// (entity_type, log_id) / (action, log_id).
const rangeSql = new Map<string, string>();
/** Whether a page with `filter` is planned per call (see QueryOptions.planPerCall): its best plan depends on the type. */
export function isFiltered(filter: LogFilter): boolean {
  return filter.entityType !== undefined || filter.action !== undefined;
}

/** The text of a log page with `filter` (exported for the plan tests). */
export function rangeQuery(filter: LogFilter): string {
  const key = `${filter.entityType !== undefined}${filter.action !== undefined}`;
  let text = rangeSql.get(key);
  if (text === undefined) {
    const conditions = [`e.${ev.logId} >= $1`];
    if (filter.entityType !== undefined) conditions.push(`e.${ev.entityType} = $${conditions.length + 2}`);
    if (filter.action !== undefined) conditions.push(`e.${ev.action} = $${conditions.length + 2}`);
    text = `select e.${ev.logId}::text as log_id, ${eventRowTextColumns}
      from ${ev.$} e where ${conditions.join(" and ")} order by e.${ev.logId} limit $2`;
    rangeSql.set(key, text);
  }
  return text;
}

/**
 * Entries with `fromId` <= id <= `toId` that pass the filter, in id order, at most `limit` (fewer when entries past
 * `toId` were cut). The upper bound is applied here rather than in SQL: with it, PostgreSQL may pick a bitmap scan
 * and a sort of everything up to the bound when its statistics are stale, which made catch-up ten times slower.
 */
export async function readLogRange(
  database: Database,
  fromId: bigint,
  toId: bigint | undefined,
  filter: LogFilter,
  limit: number,
  signal?: AbortSignal,
): Promise<LogEntry[]> {
  const params: unknown[] = [fromId.toString(), limit];
  if (filter.entityType !== undefined) params.push(filter.entityType);
  if (filter.action !== undefined) params.push(filter.action);
  const rows = await database.query<EventRowText & { log_id: string }>(rangeQuery(filter), params, signal, {
    planPerCall: isFiltered(filter),
  });
  const entries: LogEntry[] = [];
  for (const row of rows) {
    const id = BigInt(row.log_id);
    if (toId !== undefined && id > toId) break;
    entries.push({ id, event: fromEventRowText(row) });
  }
  return entries;
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
export async function readLogPage(
  database: Database,
  fromId: bigint,
  filter: LogFilter,
  size: number,
  signal?: AbortSignal,
): Promise<LogPage> {
  const from = fromId < 1n ? 1n : fromId;
  const head = await readLogHead(database, signal);
  if (head < from) return { entries: [], nextFromId: from };
  const entries = await readLogRange(database, from, head, filter, size, signal);
  const last = entries.at(-1);
  return { entries, nextFromId: entries.length === size && last !== undefined ? last.id + 1n : head + 1n };
}
