import { jsonString } from "../domain/json-string.js";
import type { ValidEvent } from "../domain/validate-append.js";

// The JSON parameters of append-batch.ts's checked write, written by hand: exactly the text JSON.stringify writes for
// the same objects (checked-write-input.unit.spec.ts holds them equal for any input), without building an object per
// event and walking it. On a 5000-event import batch that was most of the write's CPU in this process. The field
// names are the statement's own (its json_to_recordset column lists); change them together.

/** `JSON.stringify(n)` for a number (not finite: `null`). */
function jsonNumber(n: number): string {
  return Number.isFinite(n) ? String(n) : "null";
}

/** `JSON.stringify(metadata)` for a map of strings (anything else is left to JSON.stringify). */
function jsonMetadata(metadata: Readonly<Record<string, string>>): string {
  if (typeof (metadata as { toJSON?: unknown }).toJSON === "function") return JSON.stringify(metadata);
  // The keys JSON.stringify writes, in its order (Object.keys': integer-like keys first).
  const keys = Object.keys(metadata);
  if (keys.length === 0) return "{}";
  let text = "{";
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const value: unknown = metadata[key];
    if (typeof value !== "string") return JSON.stringify(metadata);
    text += `${i === 0 ? "" : ","}${jsonString(key)}:${jsonString(value)}`;
  }
  return `${text}}`;
}

/**
 * The rows to insert (`$1`): the text of
 * `JSON.stringify(batch.map((e, n) => ({ n, event_id, originator_id, version: String(version), entity_type, action,
 * event_type, payload, metadata, seconds: String(occurredOn.seconds), nanos: occurredOn.nanos })))`.
 */
export function checkedWriteInput(batch: readonly ValidEvent[]): string {
  let text = "[";
  for (let n = 0; n < batch.length; n++) {
    const e = batch[n]!;
    text +=
      `${n === 0 ? "" : ","}{"n":${n},"event_id":${jsonString(e.eventId)},` +
      `"originator_id":${jsonString(e.originatorId)},"version":"${e.version}",` +
      `"entity_type":${jsonString(e.entityType)},"action":${jsonString(e.action)},` +
      `"event_type":${jsonString(e.eventType)},"payload":${JSON.stringify(e.payload)},` +
      `"metadata":${jsonMetadata(e.metadata)},"seconds":"${e.occurredOn.seconds}",` +
      `"nanos":${jsonNumber(e.occurredOn.nanos)}}`;
  }
  return `${text}]`;
}

/**
 * The versions the write expects (`$2`): the text of
 * `JSON.stringify([...expected].map(([id, version]) => ({ originator_id: id, version: String(version) })))`.
 */
export function checkedWriteVersions(expected: ReadonlyMap<string, bigint>): string {
  let text = "[";
  for (const [id, version] of expected) {
    text += `${text === "[" ? "" : ","}{"originator_id":${jsonString(id)},"version":"${version}"}`;
  }
  return `${text}]`;
}

// COPY's text format: a row per line, its columns separated by tabs; within a column a backslash starts an escape, so
// a backslash, a newline, a carriage return and a tab are written as the escapes that stand for them.
const copySpecial = /[\\\n\r\t]/g;
const copyEscapes: Readonly<Record<string, string>> = { "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** Tests for a character {@link copySpecial} replaces (not global: `test` keeps no position). */
const hasCopySpecial = /[\\\n\r\t]/;

/** Most strings have nothing to escape: testing first spares `replace` its work (a third of the rows' CPU). */
const copyText = (s: string): string => (hasCopySpecial.test(s) ? s.replace(copySpecial, (c) => copyEscapes[c]!) : s);

const wellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();

/**
 * Whether {@link copyRows} can carry `batch`: every string of it well-formed UTF-16. A lone surrogate would become
 * U+FFFD in UTF-8, silently, where the statement's JSON makes PostgreSQL refuse it, as it always did. (The metadata's
 * JSON escapes them.)
 */
export function copyable(batch: readonly ValidEvent[]): boolean {
  for (const event of batch) {
    if (!wellFormed(event.originatorId) || !wellFormed(event.eventType) || !wellFormed(event.payload)) return false;
  }
  return true;
}

/**
 * The rows of append-batch.ts's COPY, as its text format, in the column order of its `copy` statement: event_id,
 * originator_id, version, entity_type, action, event_type, payload, metadata (JSON), occurred_on seconds and nanos.
 * Only for a batch that is {@link copyable}.
 */
export function copyRows(batch: readonly ValidEvent[]): Buffer {
  // Each row is encoded into one buffer as it is made: one string of the whole batch (5000 rows joined by `+=`) cost
  // more to flatten and encode than the rows cost to make.
  let buffer = Buffer.allocUnsafe(batch.length * 512);
  let length = 0;
  for (const event of batch) {
    const row =
      `${event.eventId}\t${copyText(event.originatorId)}\t${event.version}\t${copyText(event.entityType)}\t` +
      `${copyText(event.action)}\t${copyText(event.eventType)}\t${copyText(event.payload)}\t` +
      `${copyText(jsonMetadata(event.metadata))}\t${event.occurredOn.seconds}\t${event.occurredOn.nanos}\n`;
    // A UTF-16 code unit takes at most 3 bytes of UTF-8.
    if (length + row.length * 3 > buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(buffer.length * 2, length + row.length * 3));
      buffer.copy(grown, 0, 0, length);
      buffer = grown;
    }
    length += buffer.write(row, length, "utf8");
  }
  return buffer.subarray(0, length);
}
