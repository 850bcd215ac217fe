import type { LogEntry } from "../domain/event.js";
import type { LogFilter } from "../domain/selector.js";
import type { Database } from "../storage/database.js";
import type { StoredEvent } from "../domain/event.js";
import {
  type EventRowText,
  eventRowTextColumns,
  eventRowTextNames,
  fromEventRowText,
} from "../storage/event-row-text.js";
import { ev } from "../storage/sql-names.js";
import { isFiltered } from "./read-log.js";

/**
 * What one entry costs a stream beyond its text (ids, numbers, object headers), for the byte bound of a page. The
 * same estimate is used for entries from the tail's memory (see `entryBytes`), so both kinds of page weigh alike.
 */
export const entryOverheadBytes = 256;

/** The estimate of an entry's size that pages are bounded by (not its exact encoded size: see chunk-entries.ts). */
export function entryBytes(entry: LogEntry): number {
  if (entry instanceof KeptEntry) return entry.estimate;
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
    // Only the columns a page needs leave PostgreSQL (the id once, as text; no `size`): the driver's parsing of each
    // column is a good part of what a catch-up costs the store. The frame is ROWS (ids are unique, so it sums what the
    // default RANGE frame sums) because PostgreSQL then need not look for peers: about 5 % of its CPU on a page.
    text = `select page.log_id::text as log_id, ${eventRowTextNames.map((c) => `page.${c}`).join(", ")}, page.upto
      from (
        select e.${ev.logId} as log_id, ${eventRowTextColumns},
          (sum(${size}) over (order by e.${ev.logId} rows unbounded preceding))::int8 as upto, (${size})::int8 as size
        from ${ev.$} e where ${conditions.join(" and ")} order by e.${ev.logId} limit $2
      ) page where page.upto - page.size < $3 order by page.log_id`;
    bytesSql.set(key, text);
  }
  return text;
}

/** A log row as the page query selects it: the entry's id as text, and its event's columns. */
export type LogRowText = EventRowText & { readonly log_id: string };

const maxExact = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * An entry of a database page, over its row: its event is built only when asked for (the JSON protocols read it).
 * Binary streams never ask: log-entry-codec.ts writes a RowEntry's wire bytes from the row's text, without building
 * the event, its bigints and its metadata map first.
 */
export class RowEntry implements LogEntry {
  private builtId: bigint | undefined;
  private builtEvent: StoredEvent | undefined;

  constructor(readonly row: LogRowText) {}

  get id(): bigint {
    return (this.builtId ??= BigInt(this.row.log_id));
  }

  get event(): StoredEvent {
    return (this.builtEvent ??= fromEventRowText(this.row));
  }
}

/** How a page keeps a database row until it is sent: `id` is the row's log id, as read. */
export type KeepRow = (row: LogRowText, id: number | bigint) => LogEntry;

const keepRowEntry: KeepRow = (row) => new RowEntry(row);

/**
 * An entry of a database page kept only as the bytes its stream sends (see `keepRow` in stream-log.ts), made as its
 * row arrived: the row's strings then die young, where pages of rows waiting to be encoded were most of what the
 * garbage collector copied during a catch-up (a quarter of the store's CPU). Its event, when asked for, is read back
 * from those bytes by the writer's counterpart.
 */
abstract class KeptEntry implements LogEntry {
  private builtEvent: StoredEvent | undefined;

  constructor(
    private readonly logId: number | bigint,
    /** What the stream sends for the entry, as the writer that made it chose. */
    readonly bytes: Uint8Array,
    /** {@link entryBytes} of the entry. */
    readonly estimate: number,
    /** The writer's counterpart, shared by its entries, and what it needs of this row besides the bytes. */
    private readonly decode: (bytes: Uint8Array, hint: number | string) => StoredEvent,
    private readonly hint: number | string,
  ) {}

  get id(): bigint {
    return BigInt(this.logId);
  }

  get event(): StoredEvent {
    return (this.builtEvent ??= this.decode(this.bytes, this.hint));
  }
}

/** Kept for a binary stream: the wire bytes (for LogsPoll, the length-prefixed AppLogEntry). */
export class EncodedEntry extends KeptEntry {}

/** Kept for a JSON stream: the entry's proto3 JSON text as UTF-8, what `toJsonString(AppLogEntrySchema, …)` writes. */
export class JsonEntry extends KeptEntry {}

/**
 * Where a row's `entity_type` ends in its `event_type` when it is the part before a dot (as every append stores it):
 * a number, so that an entry kept as bytes or text need not keep the row's string; else the entity type itself.
 */
export function entityTypeSplit(eventType: string, entityType: string): number | string {
  const at = entityType.length;
  return eventType.charCodeAt(at) === 0x2e && eventType.startsWith(entityType) ? at : entityType;
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
  keep: KeepRow = keepRowEntry,
): Promise<BoundedPage> {
  const params: unknown[] = [fromId.toString(), limit, maxBytes];
  if (filter.entityType !== undefined) params.push(filter.entityType);
  if (filter.action !== undefined) params.push(filter.action);
  const entries: LogEntry[] = [];
  let bytes = 0;
  let rows = 0;
  let pastHead = false;
  // Ids as doubles where they are exact (the text of an int8 up to 15 digits), else as bigints.
  const head = toId <= maxExact ? Number(toId) : toId;
  await database.queryEach<LogRowText & { upto: string }>(
    bytesQuery(filter),
    params,
    (row) => {
      rows++;
      if (pastHead) return;
      const id = row.log_id.length <= 15 ? Number(row.log_id) : BigInt(row.log_id);
      // Past the head: not necessarily committed in order yet (see read-log.ts); the page is complete up to the head.
      if (id > head) {
        pastHead = true;
        return;
      }
      entries.push(keep(row, id));
      bytes = Number(row.upto);
    },
    undefined,
    { planPerCall: isFiltered(filter) },
  );
  if (pastHead) return { entries, bytes, complete: true };
  const cut = rows === limit || bytes >= maxBytes;
  return { entries, bytes, complete: !cut };
}
