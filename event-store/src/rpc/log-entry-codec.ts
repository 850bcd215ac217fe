import { create } from "@bufbuild/protobuf";
import { WireType } from "@bufbuild/protobuf/wire";
import { type LogsPollResponse, LogsPollResponseSchema } from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
import type { LogEntry } from "../domain/event.js";

/**
 * A hand-written protobuf encoder for AppLogEntry, for the one place where encoding dominates: streaming the log.
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

function encode(entry: LogEntry): Uint8Array {
  const e = entry.event;
  const originator = stringSize(e.originatorId) + uint64Size(e.version);
  const seconds = BigInt.asUintN(64, e.occurredOn.seconds);
  const occurredOn = uint64Size(seconds) + (e.occurredOn.nanos === 0 ? 0 : 1 + varintSize(e.occurredOn.nanos));
  const metadata = Object.entries(e.metadata).map(([key, value]) => {
    const keyBytes = Buffer.byteLength(key);
    const valueBytes = Buffer.byteLength(value);
    return { key, value, size: 2 + varintSize(keyBytes) + keyBytes + varintSize(valueBytes) + valueBytes };
  });
  let event =
    1 +
    varintSize(originator) +
    originator +
    stringSize(e.eventType) +
    stringSize(e.payload) +
    1 +
    varintSize(occurredOn) +
    occurredOn +
    stringSize(e.eventId);
  for (const m of metadata) event += 1 + varintSize(m.size) + m.size;
  const body = uint64Size(entry.id) + 1 + varintSize(event) + event;

  const w = new Writer(varintSize(body) + body);
  w.varint(body);
  w.uint64(0x08, entry.id);
  w.tag(0x12).varint(event);
  w.tag(0x0a).varint(originator).string(0x0a, e.originatorId).uint64(0x10, e.version);
  w.string(0x12, e.eventType).string(0x1a, e.payload);
  w.tag(0x22).varint(occurredOn).uint64(0x08, seconds);
  if (e.occurredOn.nanos !== 0) w.tag(0x10).varint(e.occurredOn.nanos);
  w.string(0x2a, e.eventId);
  for (const m of metadata) {
    w.tag(0x32).varint(m.size);
    w.tag(0x0a).varint(Buffer.byteLength(m.key)).raw(m.key);
    w.tag(0x12).varint(Buffer.byteLength(m.value)).raw(m.value);
  }
  return w.done();
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
