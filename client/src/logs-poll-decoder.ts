import type { AppLogEntry, Event, Originator } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import type { LogsPollResponse } from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import type { UnknownField } from "@bufbuild/protobuf";

/**
 * A hand-written decoder of LogsPollResponse: catch-up reads hundreds of thousands of entries, and protobuf-es's
 * reflective `fromBinary` spent more CPU on them than the rest of the client. It builds the very messages
 * `fromBinary(LogsPollResponseSchema, bytes)` builds (plain objects with `$typeName`, the same fields and zero
 * values, unknown fields in `$unknown`, a repeated singular message merged into the first, the last of a repeated
 * map key winning) and reads through protobuf-es's own `Reader`, so a malformed message fails with the error
 * protobuf-es gives. A property test holds the two equal (logs-poll-decoder.unit.spec.ts).
 *
 * Like protobuf-es it does not check the wire type of a known field (it reads what the field's type says) and
 * validates strings as UTF-8 (proto3). Field numbers are those of proto/eskit/eventstore/v1/event.proto and
 * event_store.proto; change them together.
 */
export function decodeLogsPollResponse(bytes: Uint8Array): LogsPollResponse {
  const r = new Reader(bytes);
  const entries: AppLogEntry[] = [];
  const message: LogsPollResponse = { $typeName: "eskit.eventstore.v1.LogsPollResponse", entries };
  let unknown: UnknownField[] | undefined;
  const end = bytes.length;
  while (r.pos < end) {
    const tag = readTag(r);
    if (tag >>> 3 === 1) entries.push(readEntry(r, r.uint32()));
    else unknown = skip(r, tag, 1, unknown);
  }
  if (unknown !== undefined) message.$unknown = unknown;
  return message;
}

/**
 * One AppLogEntry's bytes (the data of a length-delimited `entries` field), as `fromBinary(AppLogEntrySchema, bytes)`
 * decodes them; a field that runs past the end of `bytes` fails ("premature EOF").
 */
export function decodeAppLogEntry(bytes: Uint8Array): AppLogEntry {
  return readEntry(new Reader(bytes), bytes.length);
}

/** protobuf-es's reader, with its bytes in sight (they are private to it). Its 64-bit integers are bigints (strings only
 * where BigInt is missing, which the generated messages do not support either). */
class Reader extends BinaryReader {
  constructor(readonly data: Uint8Array) {
    super(data);
  }
}

/** protobuf-es's recursion limit, which bounds how deep `skip` may descend into unknown groups. */
const recursionLimit = 100;

function readEntry(r: Reader, length: number): AppLogEntry {
  const entry: AppLogEntry = { $typeName: "eskit.eventstore.v1.AppLogEntry", id: 0n };
  const end = r.pos + length;
  let unknown: UnknownField[] | undefined;
  while (r.pos < end) {
    const tag = readTag(r);
    switch (tag >>> 3) {
      case 1:
        entry.id = r.uint64() as bigint;
        break;
      case 2:
        entry.event = readEvent(r, r.uint32(), entry.event);
        break;
      default:
        unknown = skip(r, tag, 2, unknown);
    }
  }
  if (unknown !== undefined) entry.$unknown = unknown;
  return entry;
}

function readEvent(r: Reader, length: number, into: Event | undefined): Event {
  const event: Event = into ?? {
    $typeName: "eskit.eventstore.v1.Event",
    eventType: "",
    payload: "",
    eventId: "",
    metadata: {},
  };
  const end = r.pos + length;
  let unknown = event.$unknown;
  while (r.pos < end) {
    const tag = readTag(r);
    switch (tag >>> 3) {
      case 1:
        event.originator = readOriginator(r, r.uint32(), event.originator);
        break;
      case 2:
        event.eventType = readString(r);
        break;
      case 3:
        event.payload = readString(r, false);
        break;
      case 4:
        event.occurredOn = readTimestamp(r, r.uint32(), event.occurredOn);
        break;
      case 5:
        event.eventId = readString(r, false);
        break;
      case 6:
        readMetadataEntry(r, event.metadata);
        break;
      default:
        unknown = skip(r, tag, 3, unknown);
    }
  }
  if (unknown !== undefined) event.$unknown = unknown;
  return event;
}

function readOriginator(r: Reader, length: number, into: Originator | undefined): Originator {
  const originator: Originator = into ?? { $typeName: "eskit.eventstore.v1.Originator", id: "", version: 0n };
  const end = r.pos + length;
  let unknown = originator.$unknown;
  while (r.pos < end) {
    const tag = readTag(r);
    switch (tag >>> 3) {
      case 1:
        originator.id = readString(r);
        break;
      case 2:
        originator.version = r.uint64() as bigint;
        break;
      default:
        unknown = skip(r, tag, 4, unknown);
    }
  }
  if (unknown !== undefined) originator.$unknown = unknown;
  return originator;
}

function readTimestamp(r: Reader, length: number, into: Timestamp | undefined): Timestamp {
  const time: Timestamp = into ?? { $typeName: "google.protobuf.Timestamp", seconds: 0n, nanos: 0 };
  const end = r.pos + length;
  let unknown = time.$unknown;
  while (r.pos < end) {
    const tag = readTag(r);
    switch (tag >>> 3) {
      case 1:
        time.seconds = r.int64() as bigint;
        break;
      case 2:
        time.nanos = r.int32();
        break;
      default:
        unknown = skip(r, tag, 4, unknown);
    }
  }
  if (unknown !== undefined) time.$unknown = unknown;
  return time;
}

/** One entry of `metadata` (map<string, string>): key 1, value 2, anything else skipped; absent ones are "". */
function readMetadataEntry(r: Reader, metadata: { [key: string]: string }): void {
  const end = r.uint32() + r.pos;
  let key = "";
  let value = "";
  while (r.pos < end) {
    const tag = readTag(r);
    switch (tag >>> 3) {
      case 1:
        key = readString(r);
        break;
      case 2:
        value = readString(r);
        break;
      default:
        // As protobuf-es: the enclosing Event's depth (3) bounds the skip, and nothing is kept.
        r.skip(tag & 7, tag >>> 3, recursionLimit - 3);
    }
  }
  if (key === "__proto__") {
    Object.defineProperty(metadata, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    metadata[key] = value;
  }
}

/** An unknown field, kept as protobuf-es keeps it; `depth` is its message's depth (the response's is 1). */
function skip(r: Reader, tag: number, depth: number, unknown: UnknownField[] | undefined): UnknownField[] {
  const no = tag >>> 3;
  const wireType = (tag & 7) as WireType;
  const data = r.skip(wireType, no, recursionLimit - depth);
  (unknown ??= []).push({ no, wireType, data });
  return unknown;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
/** Recent short ASCII strings by a hash of their bytes: a log repeats its event types, ids and metadata. */
const recent: Array<{ bytes: Uint8Array; text: string } | undefined> = new Array(1024);
const maxCached = 48;

/**
 * A string field, as `Reader.string(true)` reads it (UTF-8, validated, a leading U+FEFF kept), but short ASCII
 * strings come from {@link recent} when seen before: decoding them was most of the decoder's time. Fields that
 * rarely repeat (`cache` false: payloads, event ids) skip the cache.
 */
function readString(r: Reader, cache = true): string {
  const length = r.uint32();
  const start = r.pos;
  r.pos += length;
  if (r.pos > r.len) throw new RangeError("premature EOF"); // as BinaryReader says it
  const buf = r.data;
  if (cache && length <= maxCached) {
    let hash = length;
    let i = start;
    for (; i < r.pos; i++) {
      const byte = buf[i]!;
      if (byte > 0x7f) break;
      hash = (Math.imul(hash, 31) + byte) | 0;
    }
    if (i === r.pos) {
      const slot = (hash ^ (hash >>> 10)) & 1023;
      const hit = recent[slot];
      if (hit !== undefined && hit.bytes.length === length) {
        const cached = hit.bytes;
        let j = 0;
        while (j < length && cached[j] === buf[start + j]) j++;
        if (j === length) return hit.text;
      }
      const bytes = buf.slice(start, r.pos);
      const text = String.fromCharCode.apply(null, bytes as unknown as number[]);
      recent[slot] = { bytes, text };
      return text;
    }
  }
  return utf8.decode(buf.subarray(start, r.pos));
}

/** A tag, checked as `Reader.tag()` checks it (without allocating its pair). */
function readTag(r: Reader): number {
  const start = r.pos;
  const tag = r.uint32();
  const read = r.pos - start;
  if (read > 5 || (read === 5 && r.data[r.pos - 1]! > 0x0f)) throw new Error("illegal tag: varint overflows uint32");
  const no = tag >>> 3;
  const wireType = tag & 7;
  if (no <= 0 || wireType > 5) throw new Error("illegal tag: field no " + no + " wire type " + wireType);
  return tag;
}
