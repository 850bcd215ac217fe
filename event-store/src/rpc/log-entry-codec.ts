import { create, fromBinary } from "@bufbuild/protobuf";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import {
  type BatchGetEventsResponse,
  BatchGetEventsResponseSchema,
  type GetEventsResponse,
  GetEventsResponseSchema,
  type LogsPollResponse,
  LogsPollResponseSchema,
} from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
import { type AppLogEntry, AppLogEntrySchema } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import type { LogEntry, StoredEvent } from "../domain/event.js";
import {
  EncodedEntry,
  entityTypeSplit,
  entryOverheadBytes,
  type KeepRow,
  type LogRowText,
  RowEntry,
} from "../store/read-log-bytes.js";
import type { Snapshot } from "../store/snapshots.js";

/**
 * A hand-written protobuf encoder for AppLogEntry and Event, for the places where encoding dominates: streaming the
 * log, and reading many events at once (GetEvents, BatchGetEvents: a Crud Store's List page is 1000 documents).
 * protobuf-es encodes by reflection through a chunked writer; catch-up spent most of its CPU there. This writes
 * each entry in one pass into one buffer, byte for byte what `toBinary(AppLogEntrySchema, …)` writes (a property
 * test holds the two equal), and caches the bytes per entry, so live streams sharing the tail encode each entry once.
 *
 * Field numbers are those of proto/eskit/eventstore/v1/event.proto; change them together.
 */
const cache = new WeakMap<LogEntry, Uint8Array>();

/**
 * The AppLogEntry's wire bytes, length-prefixed: ready to be the data of a length-delimited field. `shared` entries
 * (the tail's, seen by every live stream) are encoded once and cached; a stream's own database pages are not.
 */
export function encodeLogEntryDelimited(entry: LogEntry, shared = false): Uint8Array {
  if (entry instanceof EncodedEntry) return entry.bytes;
  if (entry instanceof RowEntry) return encodeRow(entry.row);
  if (!shared) return encode(entry);
  let bytes = cache.get(entry);
  if (bytes === undefined) {
    bytes = encode(entry);
    cache.set(entry, bytes);
  }
  return bytes;
}

/**
 * A LogsPollResponse whose `entries` travel pre-encoded, as unknown fields of the same number: protobuf-es writes
 * unknown fields verbatim, so the bytes on the wire are those of a response with `entries` set. Binary protocols
 * only: JSON ignores unknown fields.
 */
export function preEncodedLogsPollResponse(entries: readonly LogEntry[], shared = false): LogsPollResponse {
  return logsPollResponseOf(entries.map((entry) => encodeLogEntryDelimited(entry, shared)));
}

/** A LogsPollResponse of entries already encoded by {@link encodeLogEntryDelimited}. */
export function logsPollResponseOf(encoded: readonly Uint8Array[]): LogsPollResponse {
  const response = create(LogsPollResponseSchema);
  response.$unknown = encoded.map((data) => ({ no: 1, wireType: WireType.LengthDelimited, data }));
  return response;
}

/**
 * Keeps each row of a binary stream's database pages as its wire bytes (see {@link EncodedEntry}), and, for its event
 * if it is ever asked for, where the event type splits into entity type and action (as the row's entity_type says).
 */
export const keepRowEncoded: KeepRow = (row, id) =>
  new EncodedEntry(
    id,
    encodeRow(row),
    row.payload.length + entryOverheadBytes,
    storedEventOf,
    entityTypeSplit(row.event_type, row.entity_type),
  );

/**
 * The event of {@link encodeRow}'s bytes, as `fromEventRowText` builds it from the row. Metadata goes through
 * protobuf-es's map, which cannot hold a "__proto__" key: Append refuses that key, so no stored event has one.
 */
function storedEventOf(encoded: Uint8Array, split: number | string): StoredEvent {
  return storedEventOfEntry(fromBinary(AppLogEntrySchema, new BinaryReader(encoded).bytes()), split);
}

/**
 * The stored event of a decoded AppLogEntry whose event type splits at `split` (see `entityTypeSplit`), as
 * `fromEventRowText` builds it from the row the entry was written from.
 */
export function storedEventOfEntry(entry: AppLogEntry, split: number | string): StoredEvent {
  const event = entry.event!;
  const eventType = event.eventType;
  const entityType = typeof split === "number" ? eventType.slice(0, split) : split;
  return {
    originatorId: event.originator?.id ?? "",
    version: event.originator?.version ?? 0n,
    eventType,
    entityType,
    action: eventType.slice(entityType.length + 1),
    payload: event.payload,
    metadata: { ...event.metadata },
    occurredOn: { seconds: event.occurredOn?.seconds ?? 0n, nanos: event.occurredOn?.nanos ?? 0 },
    eventId: event.eventId,
  };
}

function encode(entry: LogEntry): Uint8Array {
  const event = eventLayout(entry.event);
  const body = uint64Size(entry.id) + 1 + varintSize(event.size) + event.size;
  const w = new Writer(varintSize(body) + body);
  w.varint(body);
  w.uint64(0x08, entry.id);
  w.tag(0x12).varint(event.size);
  writeEvent(w, entry.event, event);
  return w.done();
}

/**
 * A database row's AppLogEntry, length-prefixed: the same bytes {@link encode} writes for the entry the row stands
 * for (`fromEventRowText`), written from the row's text without building that entry (a property test holds the two
 * equal). Ids, versions and seconds come as decimal text: up to 15 digits they are exact as doubles.
 */
function encodeRow(row: LogRowText): Uint8Array {
  const id = decimal(row.log_id);
  const version = decimal(row.version);
  const seconds =
    row.occurred_on_seconds.length <= 15 ? Number(row.occurred_on_seconds) : BigInt(row.occurred_on_seconds);
  // Negative seconds are written as their 64-bit two's complement, as protobuf-es writes an int64.
  const wireSeconds = seconds < 0 ? BigInt.asUintN(64, BigInt(seconds)) : seconds;
  const nanos = row.occurred_on_nanos;
  const originatorIdBytes = Buffer.byteLength(row.originator_id);
  const eventTypeBytes = Buffer.byteLength(row.event_type);
  const payloadBytes = Buffer.byteLength(row.payload);
  const eventIdBytes = Buffer.byteLength(row.event_id);
  const originator = stringBytesSize(originatorIdBytes) + numberFieldSize(version);
  const occurredOn = numberFieldSize(wireSeconds) + (nanos === 0 ? 0 : 1 + varintSize(nanos));
  const metadata = row.metadata === "{}" ? undefined : metadataFields(row.metadata);
  let event =
    1 +
    varintSize(originator) +
    originator +
    stringBytesSize(eventTypeBytes) +
    stringBytesSize(payloadBytes) +
    1 +
    varintSize(occurredOn) +
    occurredOn +
    stringBytesSize(eventIdBytes);
  if (metadata !== undefined) event += metadata.length;
  const body = numberFieldSize(id) + 1 + varintSize(event) + event;
  const w = new Writer(varintSize(body) + body);
  w.varint(body);
  if (id !== 0) w.tag(0x08).varint(id);
  w.tag(0x12).varint(event);
  w.tag(0x0a).varint(originator);
  if (originatorIdBytes > 0) w.tag(0x0a).varint(originatorIdBytes).raw(row.originator_id);
  if (version !== 0) w.tag(0x10).varint(version);
  if (eventTypeBytes > 0) w.tag(0x12).varint(eventTypeBytes).raw(row.event_type);
  if (payloadBytes > 0) w.tag(0x1a).varint(payloadBytes).raw(row.payload);
  w.tag(0x22).varint(occurredOn);
  if (wireSeconds !== 0) w.tag(0x08).varint(wireSeconds);
  if (nanos !== 0) w.tag(0x10).varint(nanos);
  if (eventIdBytes > 0) w.tag(0x2a).varint(eventIdBytes).raw(row.event_id);
  if (metadata !== undefined) w.bytes(metadata);
  return w.done();
}

/**
 * The metadata fields (field 6, each tag, length and map entry) of a jsonb text, encoded once per distinct text:
 * events of one source tend to carry the same metadata. At most {@link maxMetadataTexts} short ones are kept.
 */
function metadataFields(text: string): Uint8Array {
  let bytes = metadataCache.get(text);
  if (bytes === undefined) {
    const layout = metadataLayout(JSON.parse(text) as Record<string, string>);
    let size = 0;
    for (const m of layout) size += 1 + varintSize(m.size) + m.size;
    const w = new Writer(size);
    writeMetadata(w, layout);
    if (text.length > maxMetadataTextLength) return w.done();
    bytes = new Uint8Array(w.done()); // its own memory, not a slice of Buffer's shared pool
    if (metadataCache.size >= maxMetadataTexts) metadataCache.clear();
    metadataCache.set(text, bytes);
  }
  return bytes;
}

const metadataCache = new Map<string, Uint8Array>();
/** At most this many texts of at most this length are kept (metadata is bounded only by the request's size). */
const maxMetadataTexts = 256;
const maxMetadataTextLength = 1024;

/** An unsigned decimal's value: a double when exact (up to 15 digits), else a bigint. */
function decimal(text: string): number | bigint {
  return text.length <= 15 ? Number(text) : BigInt(text);
}

/** Size of a varint field with its tag (omitted when zero). */
function numberFieldSize(value: number | bigint): number {
  return value === 0 || value === 0n ? 0 : 1 + varintSize(value);
}

/** Size of a string field of `bytes` UTF-8 bytes with its tag (omitted when empty). */
function stringBytesSize(bytes: number): number {
  return bytes === 0 ? 0 : 1 + varintSize(bytes) + bytes;
}

type MetadataLayout = ReadonlyArray<{ key: string; value: string; size: number }>;

function metadataLayout(metadata: Readonly<Record<string, string>>): MetadataLayout {
  return Object.entries(metadata).map(([key, value]) => {
    const keyBytes = Buffer.byteLength(key);
    const valueBytes = Buffer.byteLength(value);
    return { key, value, size: 2 + varintSize(keyBytes) + keyBytes + varintSize(valueBytes) + valueBytes };
  });
}

function writeMetadata(w: Writer, metadata: MetadataLayout): void {
  for (const m of metadata) {
    w.tag(0x32).varint(m.size);
    w.tag(0x0a).varint(Buffer.byteLength(m.key)).raw(m.key);
    w.tag(0x12).varint(Buffer.byteLength(m.value)).raw(m.value);
  }
}

/** An Event's encoded size, with what writing it needs again (the metadata's sizes and the time's). */
interface EventLayout {
  readonly size: number;
  readonly originator: number;
  readonly seconds: bigint;
  readonly occurredOn: number;
  readonly metadata: MetadataLayout;
}

function eventLayout(e: StoredEvent): EventLayout {
  const originator = stringSize(e.originatorId) + uint64Size(e.version);
  const seconds = BigInt.asUintN(64, e.occurredOn.seconds);
  const occurredOn = uint64Size(seconds) + (e.occurredOn.nanos === 0 ? 0 : 1 + varintSize(e.occurredOn.nanos));
  const metadata = metadataLayout(e.metadata);
  let size =
    1 +
    varintSize(originator) +
    originator +
    stringSize(e.eventType) +
    stringSize(e.payload) +
    1 +
    varintSize(occurredOn) +
    occurredOn +
    stringSize(e.eventId);
  for (const m of metadata) size += 1 + varintSize(m.size) + m.size;
  return { size, originator, seconds, occurredOn, metadata };
}

/** The Event's fields (no tag or length of its own), in field order, as protobuf-es writes them. */
function writeEvent(w: Writer, e: StoredEvent, layout: EventLayout): void {
  w.tag(0x0a).varint(layout.originator).string(0x0a, e.originatorId).uint64(0x10, e.version);
  w.string(0x12, e.eventType).string(0x1a, e.payload);
  w.tag(0x22).varint(layout.occurredOn).uint64(0x08, layout.seconds);
  if (e.occurredOn.nanos !== 0) w.tag(0x10).varint(e.occurredOn.nanos);
  w.string(0x2a, e.eventId);
  writeMetadata(w, layout.metadata);
}

/**
 * A GetEventsResponse's wire bytes, length-prefixed (one result of BatchGetEvents): its events, then its snapshot,
 * byte for byte what `toBinary(GetEventsResponseSchema, …)` writes.
 */
export function encodeEventsResultDelimited(events: readonly StoredEvent[], snapshot?: Snapshot): Uint8Array {
  const layouts = events.map(eventLayout);
  let body = 0;
  for (const l of layouts) body += 1 + varintSize(l.size) + l.size;
  const snap = snapshot === undefined ? 0 : uint64Size(snapshot.version) + stringSize(snapshot.payload);
  if (snapshot !== undefined) body += 1 + varintSize(snap) + snap;
  const w = new Writer(varintSize(body) + body);
  w.varint(body);
  events.forEach((e, i) => {
    w.tag(0x0a).varint(layouts[i]!.size);
    writeEvent(w, e, layouts[i]!);
  });
  if (snapshot !== undefined) w.tag(0x12).varint(snap).uint64(0x08, snapshot.version).string(0x12, snapshot.payload);
  return w.done();
}

/**
 * A GetEventsResponse whose events travel pre-encoded (unknown fields of their number, as LogsPoll's entries do):
 * for binary protocols only. The snapshot is an ordinary field.
 */
export function preEncodedGetEventsResponse(events: readonly StoredEvent[], snapshot?: Snapshot): GetEventsResponse {
  const response = create(GetEventsResponseSchema, { snapshot });
  response.$unknown = events.map((e) => {
    const layout = eventLayout(e);
    const w = new Writer(varintSize(layout.size) + layout.size);
    w.varint(layout.size);
    writeEvent(w, e, layout);
    return { no: 1, wireType: WireType.LengthDelimited, data: w.done() };
  });
  return response;
}

/** A BatchGetEventsResponse whose results travel pre-encoded: for binary protocols only. */
export function preEncodedBatchGetEventsResponse(
  results: ReadonlyArray<{ readonly events: readonly StoredEvent[]; readonly snapshot: Snapshot | undefined }>,
): BatchGetEventsResponse {
  const response = create(BatchGetEventsResponseSchema);
  response.$unknown = results.map((r) => ({
    no: 1,
    wireType: WireType.LengthDelimited,
    data: encodeEventsResultDelimited(r.events, r.snapshot),
  }));
  return response;
}

/** Size of a string field with its tag (omitted when empty, as proto3 does). */
function stringSize(value: string): number {
  if (value === "") return 0;
  const bytes = Buffer.byteLength(value);
  return 1 + varintSize(bytes) + bytes;
}

/** Size of a uint64 field with its tag (omitted when zero). */
function uint64Size(value: bigint): number {
  return value === 0n ? 0 : 1 + varintSize(value);
}

function varintSize(value: number | bigint): number {
  if (typeof value === "bigint") {
    if (value > maxSafe) {
      let size = 1;
      for (let v = value; v >= 0x80n; v >>= 7n) size++;
      return size;
    }
    value = Number(value);
  }
  let size = 1;
  for (let v = value; v >= 0x80; v = Math.floor(v / 0x80)) size++;
  return size;
}

const maxSafe = BigInt(Number.MAX_SAFE_INTEGER);

class Writer {
  private readonly buffer: Buffer;
  private at = 0;

  constructor(size: number) {
    this.buffer = Buffer.allocUnsafe(size);
  }

  tag(byte: number): this {
    this.buffer[this.at++] = byte;
    return this;
  }

  varint(value: number | bigint): this {
    // Ids, versions and seconds are bigints but nearly always fit a double: take the fast path then.
    if (typeof value === "bigint" && value <= maxSafe) value = Number(value);
    if (typeof value === "number") {
      let v = value;
      while (v >= 0x80) {
        this.buffer[this.at++] = (v % 0x80) | 0x80;
        v = Math.floor(v / 0x80);
      }
      this.buffer[this.at++] = v;
      return this;
    }
    let v = value;
    while (v >= 0x80n) {
      this.buffer[this.at++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buffer[this.at++] = Number(v);
    return this;
  }

  uint64(tag: number, value: bigint): this {
    return value === 0n ? this : this.tag(tag).varint(value);
  }

  string(tag: number, value: string): this {
    return value === "" ? this : this.tag(tag).varint(Buffer.byteLength(value)).raw(value);
  }

  bytes(value: Uint8Array): this {
    this.buffer.set(value, this.at);
    this.at += value.length;
    return this;
  }

  raw(value: string): this {
    this.at += this.buffer.write(value, this.at, "utf8");
    return this;
  }

  done(): Uint8Array {
    if (this.at !== this.buffer.length)
      throw new Error(`log entry encoding wrote ${this.at} of ${this.buffer.length} bytes`);
    return this.buffer;
  }
}
