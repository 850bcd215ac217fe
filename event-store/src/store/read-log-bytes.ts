import type { LogEntry } from "../domain/event.js";
import type { LogFilter } from "../domain/selector.js";
import type { Database } from "../storage/database.js";
import { type EventRowText, eventRowTextColumns, fromEventRowText } from "../storage/event-row-text.js";
import { ev } from "../storage/sql-names.js";
import { isFiltered } from "./read-log.js";

/**
 * What one entry costs a stream beyond its text (ids, numbers, object headers), for the byte bound of a page. The
 * same estimate is used for entries from the tail's memory (see `entryBytes`), so both kinds of page weigh alike.
 */
export const entryOverheadBytes = 256;

/** The estimate of an entry's size that pages are bounded by (not its exact encoded size: see chunk-entries.ts). */
export function entryBytes(entry: LogEntry): number {
  return entry.event.payload.length + entryOverheadBytes;
}

const bytesSql = new Map<string, string>();
/** The text of a byte-bounded log page with `filter` (exported for the plan tests). */
export function bytesQuery(filter: LogFilter): string {
  const key = `${filter.entityType !== undefined}${filter.action !== undefined}`;
  let text = bytesSql.get(key);
  if (text === undefined) {
    const conditions = [`e.${ev.logId} >= $1`];
    if (filter.entityType !== undefined) conditions.push(`e.${ev.entityType} = $${conditions.length + 3}`);
    if (filter.action !== undefined) conditions.push(`e.${ev.action} = $${conditions.length + 3}`);
    // The running sum is computed over the id-ordered scan that LIMIT stops, so the plan stays that of a plain page
    // (an index scan by id); the outer filter keeps the rows that start within the budget, so the large payloads past
    // it are never sent. `upto` is the sum up to and including the row.
    const size = `octet_length(e.${ev.payload}) + octet_length(e.${ev.originatorId}) + octet_length(e.${ev.eventType}) + ${entryOverheadBytes}`;
    text = `select page_id::text as log_id, page.* from (
        select e.${ev.logId} as page_id, ${eventRowTextColumns},
          (sum(${size}) over (order by e.${ev.logId}))::int8 as upto, (${size})::int8 as size
        from ${ev.$} e where ${conditions.join(" and ")} order by e.${ev.logId} limit $2
      ) page where upto - size < $3 order by page_id`;
    bytesSql.set(key, text);
  }
  return text;
}

/** A page bounded by entries and by bytes. */
export interface BoundedPage {
  readonly entries: LogEntry[];
  /** Its estimated size in bytes. */
  readonly bytes: number;
  /** False when the page may have stopped before `toId` (entry or byte bound): read on from after its last entry. */
  readonly complete: boolean;
}

/**
 * Entries with `fromId` <= id <= `toId` passing `filter`, in id order: at most `limit`, and only as many as start
 * within `maxBytes` (at least one), so a page of 1 MiB payloads is as small in memory as a page of small ones.
 */
export async function readLogBounded(
  database: Database,
  fromId: bigint,
  toId: bigint,
  filter: LogFilter,
  limit: number,
  maxBytes: number,
): Promise<BoundedPage> {
  const params: unknown[] = [fromId.toString(), limit, maxBytes];
  if (filter.entityType !== undefined) params.push(filter.entityType);
  if (filter.action !== undefined) params.push(filter.action);
  const rows = await database.query<EventRowText & { log_id: string; upto: string }>(
    bytesQuery(filter),
    params,
    undefined,
    {
      planPerCall: isFiltered(filter),
    },
  );
  const entries: LogEntry[] = [];
  let bytes = 0;
  for (const row of rows) {
    const id = BigInt(row.log_id);
    // Past the head: not necessarily committed in order yet (see read-log.ts); the page is complete up to the head.
    if (id > toId) return { entries, bytes, complete: true };
    entries.push({ id, event: fromEventRowText(row) });
    bytes = Number(row.upto);
  }
  const cut = rows.length === limit || bytes >= maxBytes;
  return { entries, bytes, complete: !cut };
}
