import { fromJsonString, toJsonString } from "@bufbuild/protobuf";
import { AppLogEntrySchema, EventSchema } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import type { Instant, LogEntry, StoredEvent } from "../domain/event.js";
import { jsonString } from "../domain/json-string.js";
import {
  entityTypeSplit,
  entryOverheadBytes,
  JsonEntry,
  type KeepRow,
  type LogRowText,
  RowEntry,
} from "../store/read-log-bytes.js";
import { toEventMessage, toLogEntryMessage } from "./convert.js";
import { storedEventOfEntry } from "./log-entry-codec.js";

// Each shared entry's bytes (the tail's, sent to every live stream), written once.
const cache = new WeakMap<LogEntry, Uint8Array>();

/**
 * A hand-written JSON encoder for AppLogEntry and Event: the text `toJsonString(AppLogEntrySchema, …)` writes (proto3
 * JSON as protobuf-es writes it: fields in declaration order, defaults left out, 64-bit integers as strings, the
 * timestamp in RFC 3339 with 0, 3, 6 or 9 fractional digits), without protobuf-es's reflection, which was most of
 * what streaming the log over Connect JSON cost. A property test holds the two equal for any entry. Shared entries
 * (the tail's, seen by every live stream) are encoded once and cached, as their binary form is.
 *
 * Field names are those of proto/eskit/eventstore/v1/event.proto; change them together.
 */
export function logEntryJson(entry: LogEntry): string {
  return entry instanceof JsonEntry ? utf8.decode(entry.bytes) : entryJson(entry);
}

/** {@link logEntryJson}'s text as UTF-8: a database row kept as its text has it already; shared entries are cached. */
export function logEntryJsonBytes(entry: LogEntry, shared = false): Uint8Array {
  if (entry instanceof JsonEntry) return entry.bytes;
  if (!shared) return Buffer.from(entryJson(entry));
  let bytes = cache.get(entry);
  if (bytes === undefined) {
    bytes = Buffer.from(entryJson(entry));
    cache.set(entry, bytes);
  }
  return bytes;
}

const utf8 = new TextDecoder();

function entryJson(entry: LogEntry): string {
  // A database row (a Logs page's, or a stream's kept as a row): its text written from the row's, without its event.
  const fromRow = entry instanceof RowEntry ? rowJson(entry.row) : undefined;
  if (fromRow !== undefined) return fromRow;
  // A time JSON cannot carry: protobuf-es's own encoder throws exactly as it always did.
  if (!representable(entry.event.occurredOn)) return toJsonString(AppLogEntrySchema, toLogEntryMessage(entry));
  const event = `"event":${writeEvent(entry.event)}}`;
  return entry.id === 0n ? `{${event}` : `{"id":"${entry.id}",${event}`;
}

/** A LogsResponse's JSON text, as `toJsonString(LogsResponseSchema, …)` writes it. */
export function logsResponseJson(entries: readonly LogEntry[], nextFromId: bigint): string {
  const parts: string[] = [];
  if (entries.length > 0) parts.push(`"entries":[${entries.map((e) => logEntryJson(e)).join(",")}]`);
  if (nextFromId !== 0n) parts.push(`"nextFromId":"${nextFromId}"`);
  return `{${parts.join(",")}}`;
}

/** An Event's JSON text, as `toJsonString(EventSchema, …)` writes it. */
export function eventJson(event: StoredEvent): string {
  if (!representable(event.occurredOn)) return toJsonString(EventSchema, toEventMessage(event));
  return writeEvent(event);
}

function writeEvent(e: StoredEvent): string {
  let originator = "";
  if (e.originatorId !== "") originator = `"id":${jsonString(e.originatorId)}`;
  if (e.version !== 0n) originator += `${originator === "" ? "" : ","}"version":"${e.version}"`;
  let out = `{"originator":{${originator}}`;
  if (e.eventType !== "") out += `,"eventType":${jsonString(e.eventType)}`;
  if (e.payload !== "") out += `,"payload":${JSON.stringify(e.payload)}`;
  out += `,"occurredOn":"${timestamp(e.occurredOn)}"`;
  if (e.eventId !== "") out += `,"eventId":${jsonString(e.eventId)}`;
  return `${out}${metadataJson(e.metadata)}}`;
}

/** The metadata field (with the comma before it), or nothing for an empty map. */
function metadataJson(metadata: Readonly<Record<string, string>>): string {
  let fields = "";
  for (const key in metadata) {
    if (!Object.hasOwn(metadata, key)) continue;
    fields += `${fields === "" ? "" : ","}${jsonString(key)}:${JSON.stringify(metadata[key])}`;
  }
  return fields === "" ? "" : `,"metadata":{${fields}}`;
}

/**
 * Keeps each row of a JSON stream's database pages as its entry's JSON text (see {@link JsonEntry}), written from the
 * row's text as it arrives: no event, bigints or metadata map are built for it, and the row's strings die young (a
 * page of rows waiting to be written was most of what the garbage collector copied during a catch-up over JSON). A
 * row whose time JSON cannot carry stays a RowEntry, so that sending it fails where and as it always did.
 */
export const keepRowJson: KeepRow = (row, id) => {
  const json = rowJson(row);
  if (json === undefined) return new RowEntry(row);
  return new JsonEntry(
    id,
    Buffer.from(json),
    row.payload.length + entryOverheadBytes,
    eventOfJson,
    entityTypeSplit(row.event_type, row.entity_type),
  );
};

/**
 * The text {@link logEntryJson} writes for `new RowEntry(row)`, from the row's text (ints as PostgreSQL writes them:
 * canonical decimals), or undefined when its time is not representable in JSON.
 */
function rowJson(row: LogRowText): string | undefined {
  const time = rowTimestamp(row.occurred_on_seconds, row.occurred_on_nanos);
  if (time === undefined) return undefined;
  let originator = "";
  if (row.originator_id !== "") originator = `"id":${jsonString(row.originator_id)}`;
  if (row.version !== "0") originator += `${originator === "" ? "" : ","}"version":"${row.version}"`;
  let out = `${row.log_id === "0" ? "{" : `{"id":"${row.log_id}",`}"event":{"originator":{${originator}}`;
  if (row.event_type !== "") out += `,"eventType":${jsonString(row.event_type)}`;
  if (row.payload !== "") out += `,"payload":${JSON.stringify(row.payload)}`;
  out += `,"occurredOn":"${time}"`;
  if (row.event_id !== "") out += `,"eventId":${jsonString(row.event_id)}`;
  if (row.metadata !== "{}") out += metadataJsonOfText(row.metadata);
  return `${out}}}`;
}

/**
 * A kept entry's event, read back from its text: what the row gives for every event Append stores (it refuses a
 * "__proto__" metadata key, versions below 1 and metadata values that are not strings).
 */
function eventOfJson(json: Uint8Array, split: number | string): StoredEvent {
  return storedEventOfEntry(fromJsonString(AppLogEntrySchema, utf8.decode(json)), split);
}

/**
 * {@link metadataJson} of a jsonb column's text, written once per distinct text (events of one source tend to carry
 * the same metadata); at most {@link maxMetadataTexts} short ones are kept.
 */
function metadataJsonOfText(text: string): string {
  let json = metadataTexts.get(text);
  if (json === undefined) {
    json = metadataJson(JSON.parse(text) as Record<string, string>);
    if (text.length > maxMetadataTextLength) return json;
    if (metadataTexts.size >= maxMetadataTexts) metadataTexts.clear();
    metadataTexts.set(text, json);
  }
  return json;
}

const metadataTexts = new Map<string, string>();
/** At most this many texts of at most this length are kept (metadata is bounded only by the request's size). */
const maxMetadataTexts = 256;
const maxMetadataTextLength = 1024;

const minMs = Date.parse("0001-01-01T00:00:00Z");
const maxMs = Date.parse("9999-12-31T23:59:59Z");

function representable(t: Instant): boolean {
  return secondsInRange(Number(t.seconds)) && nanosInRange(t.nanos);
}

/** Whether RFC 3339 (years 0001 to 9999) can write these seconds (NaN cannot), and these nanos as their fraction. */
const secondsInRange = (seconds: number): boolean => seconds * 1000 >= minMs && seconds * 1000 <= maxMs;
const nanosInRange = (nanos: number): boolean => nanos >= 0 && nanos <= 999_999_999;

function timestamp(t: Instant): string {
  return `${secondText(Number(t.seconds))}${fraction(t.nanos)}Z`;
}

/** {@link timestamp} of a row's time (its seconds as text), or undefined when it is not representable. */
function rowTimestamp(seconds: string, nanos: number): string | undefined {
  if (seconds !== lastSecond.text) {
    const value = Number(seconds);
    if (!secondsInRange(value)) return undefined;
    lastSecond = { text: seconds, iso: secondText(value) };
  }
  if (!nanosInRange(nanos)) return undefined;
  return `${lastSecond.iso}${fraction(nanos)}Z`;
}

/** A log's entries come in time order, many in the same second: its text is made once (Date's ISO text is slow). */
let lastSecond = { text: "", iso: "" };

/** The date and time of a whole second, as RFC 3339 without the fraction and zone ("2026-01-01T00:00:00"). */
function secondText(seconds: number): string {
  return new Date(seconds * 1000).toISOString().substring(0, 19);
}

/** The fraction of a second as protobuf-es writes it: none, or 3, 6 or 9 digits after a dot. */
function fraction(nanos: number): string {
  if (nanos === 0) return "";
  const digits = String(nanos + 1_000_000_000).substring(1);
  return digits.endsWith("000000")
    ? `.${digits.substring(0, 3)}`
    : digits.endsWith("000")
      ? `.${digits.substring(0, 6)}`
      : `.${digits}`;
}
