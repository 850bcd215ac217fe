import { isUtf8 } from "node:buffer";
import { decodeAppLogEntry } from "@eskit/client/logs-poll-decoder.js";
import { entryLine, timeJson } from "./entry-json.js";

/**
 * Export's lines written straight from the wire: an AppLogEntry's protobuf bytes, as LogsPoll sends them, become its
 * NDJSON line (the text {@link entryLine} writes, see entry-json.ts) in a byte buffer, without building the message
 * or its strings. Decoding each entry into a message and writing it back out as text was nearly all of an export's
 * CPU; here strings are copied byte for byte, escaped where JSON needs it.
 *
 * Only the shape the Event Store writes takes this path: every field at most once and in field-number order, no
 * unknown field, strings valid UTF-8, metadata keys that a JavaScript object keeps in arrival order, never twice.
 * Anything else (legal protobuf all the same) is decoded and written by {@link entryLine}, which gives the same
 * text or fails as it does; entry-ndjson.unit.spec.ts holds the two equal on any bytes.
 */
export class NdjsonWriter {
  private buffer = Buffer.allocUnsafe(1 << 20);
  private length = 0;
  /** Where the last line written starts. */
  private lastLine = 0;

  /** Takes back the last line written. */
  dropLast(): void {
    this.length = this.lastLine;
  }

  /** The lines written since the last take (theirs to keep: the next lines go to a new buffer). */
  take(): Buffer {
    const lines = this.buffer.subarray(0, this.length);
    this.buffer = Buffer.allocUnsafe(Math.max(1 << 16, this.length + (this.length >> 2)));
    this.length = 0;
    this.lastLine = 0;
    return lines;
  }

  /** Writes one entry's line (and its newline); returns the entry's log id. Fails as entryLine(decode(bytes)) does. */
  writeEntry(bytes: Uint8Array): bigint {
    const mark = this.length;
    this.lastLine = mark;
    let id: bigint | undefined;
    try {
      id = this.tryWrite(bytes);
    } catch {
      // Malformed: the decoder below fails with protobuf-es's own error.
    }
    if (id !== undefined) return id;
    this.length = mark;
    const entry = decodeAppLogEntry(bytes);
    this.ascii(`${entryLine(entry)}\n`, true);
    return entry.id;
  }

  /** The line, or undefined (with part of it written) when the bytes are not of the shape taken here. */
  private tryWrite(bytes: Uint8Array): bigint | undefined {
    at = 0;
    const end = bytes.length;
    let id = 0;
    let eventStart = -1;
    let eventEnd = -1;
    let last = 0;
    while (at < end) {
      const tag = varint(bytes, end);
      const no = tag >>> 3;
      if (tag < 0 || no <= last) return undefined;
      last = no;
      if (tag === 1 << 3 /* id, varint */) {
        id = varint(bytes, end);
        if (id < 0) return undefined;
      } else if (tag === ((2 << 3) | 2) /* event */) {
        const length = varint(bytes, end);
        if (length < 0 || at + length > end) return undefined;
        eventStart = at;
        eventEnd = at + length;
        at = eventEnd;
      } else return undefined;
    }
    if (id === 0) this.ascii("{");
    else {
      this.ascii('{"id":"');
      this.digits(id);
      this.ascii('"');
    }
    if (eventStart >= 0) {
      this.ascii(id === 0 ? `"event":{` : `,"event":{`);
      at = eventStart;
      if (!this.writeEvent(bytes, eventEnd)) return undefined;
      this.ascii("}");
    }
    this.ascii("}\n");
    return BigInt(id);
  }

  /** The event at {@link at} up to `end`; every read checks that it stays within its field. */
  private writeEvent(bytes: Uint8Array, end: number): boolean {
    let last = 0;
    let comma = false;
    /** The metadata keys so far, as [from, to) pairs. */
    let keys: number[] | undefined;
    let metadataOpen = false;
    while (at < end) {
      const tag = varint(bytes, end);
      if (tag < 0) return false;
      const no = tag >>> 3;
      // Metadata entries (6) repeat; any other field comes once, in order.
      if (no < last || (no === last && no !== 6)) return false;
      if (no !== 6 && metadataOpen) return false;
      last = no;
      if ((tag & 7) !== 2) return false;
      const length = varint(bytes, end);
      if (length < 0) return false;
      const from = at;
      const to = from + length;
      if (to > end) return false;
      switch (no) {
        case 1: {
          // originator: id (1), version (2)
          let idFrom = -1;
          let idTo = -1;
          let version = 0;
          let seen = 0;
          while (at < to) {
            const t = varint(bytes, to);
            if (t < 0 || t >>> 3 <= seen) return false;
            seen = t >>> 3;
            if (t === ((1 << 3) | 2)) {
              const n = varint(bytes, to);
              if (n < 0) return false;
              idFrom = at;
              idTo = at + n;
              if (idTo > to) return false;
              at = idTo;
            } else if (t === 2 << 3) {
              version = varint(bytes, to);
              if (version < 0) return false;
            } else return false;
          }
          this.key('"originator":', comma);
          comma = true;
          this.ascii("{");
          if (idTo > idFrom) {
            this.ascii(`"id":`);
            if (!this.jsonString(bytes, idFrom, idTo)) return false;
          }
          if (version !== 0) {
            this.ascii(idTo > idFrom ? ',"version":"' : '"version":"');
            this.digits(version);
            this.ascii('"');
          }
          this.ascii("}");
          break;
        }
        case 2:
        case 3:
        case 5:
          at = to;
          if (length === 0) break;
          this.key(no === 2 ? '"eventType":' : no === 3 ? '"payload":' : '"eventId":', comma);
          comma = true;
          if (!this.jsonString(bytes, from, to)) return false;
          break;
        case 4: {
          // occurredOn: seconds (1), nanos (2); a negative one (ten bytes) is left to protobuf-es.
          let seconds = 0;
          let nanos = 0;
          let seen = 0;
          while (at < to) {
            const t = varint(bytes, to);
            if (t < 0 || t >>> 3 <= seen) return false;
            seen = t >>> 3;
            if (t !== 1 << 3 && t !== 2 << 3) return false;
            const value = varint(bytes, to);
            if (value < 0) return false;
            if (t === 1 << 3) seconds = value;
            else nanos = value;
          }
          const time = nanos > 999_999_999 ? undefined : timeJson(seconds, nanos);
          if (time === undefined) return false;
          this.key('"occurredOn":', comma);
          comma = true;
          this.ascii(`"${time}"`);
          break;
        }
        case 6: {
          // A metadata entry: key (1), value (2).
          let keyFrom = from;
          let keyTo = from;
          let valueFrom = from;
          let valueTo = from;
          let seen = 0;
          while (at < to) {
            const t = varint(bytes, to);
            if (t < 0 || t >>> 3 <= seen || (t & 7) !== 2 || t >>> 3 > 2) return false;
            seen = t >>> 3;
            const n = varint(bytes, to);
            if (n < 0 || at + n > to) return false;
            if (seen === 1) [keyFrom, keyTo] = [at, at + n];
            else [valueFrom, valueTo] = [at, at + n];
            at += n;
          }
          // A key an object orders by its number (an array index) is left to entryLine, and so is a key seen twice
          // (the last value wins, at the first one's place).
          const first = bytes[keyFrom];
          if (keyTo > keyFrom && first !== undefined && first >= 0x30 && first <= 0x39) return false;
          keys ??= [];
          if (keys.length === 64) return false;
          for (let k = 0; k < keys.length; k += 2) {
            if (keys[k + 1]! - keys[k]! === keyTo - keyFrom && sameBytes(bytes, keyFrom, keyTo, bytes, keys[k]!)) {
              return false;
            }
          }
          keys.push(keyFrom, keyTo);
          if (!metadataOpen) {
            this.key('"metadata":', comma);
            comma = true;
            this.ascii("{");
            metadataOpen = true;
          } else this.ascii(",");
          if (!this.jsonString(bytes, keyFrom, keyTo)) return false;
          this.ascii(":");
          if (!this.jsonString(bytes, valueFrom, valueTo)) return false;
          break;
        }
        default:
          return false;
      }
      if (at !== to) return false;
    }
    if (metadataOpen) this.ascii("}");
    return at === end;
  }

  /** A whole number below 2^53 in decimal. */
  private digits(value: number): void {
    this.reserve(16);
    if (value < 10) {
      this.buffer[this.length++] = 0x30 + value;
      return;
    }
    this.ascii(String(value));
  }

  /** A field's name (`"name":`), after a comma unless it is the first. */
  private key(name: string, comma: boolean): void {
    if (comma) this.ascii(",");
    this.ascii(name);
  }

  /** `text` as bytes; ASCII only unless `utf8`. Short ones are copied here: a call into Buffer costs more. */
  private ascii(text: string, utf8 = false): void {
    if (utf8 || text.length > 64) {
      this.reserve(utf8 ? Buffer.byteLength(text) : text.length);
      this.length += this.buffer.write(text, this.length, utf8 ? "utf8" : "latin1");
      return;
    }
    this.reserve(text.length);
    const out = this.buffer;
    let at = this.length;
    for (let i = 0; i < text.length; i++) out[at++] = text.charCodeAt(i);
    this.length = at;
  }

  /** The UTF-8 string at bytes[from, to) as a JSON string, escaped as JSON.stringify escapes; false if not UTF-8. */
  private jsonString(bytes: Uint8Array, from: number, to: number): boolean {
    // At most 6 bytes (\u00XX) for each byte, and the quotes.
    this.reserve((to - from) * 6 + 2);
    const out = this.buffer;
    let at = this.length;
    let high = 0;
    out[at++] = 0x22;
    for (let i = from; i < to; i++) {
      const b = bytes[i]!;
      high |= b;
      if (b >= 0x20 && b !== 0x22 && b !== 0x5c) out[at++] = b;
      else {
        out[at++] = 0x5c;
        const short = shortEscapes[b];
        if (short !== undefined) out[at++] = short;
        else {
          out[at++] = 0x75; // u00XX, lowercase as JSON.stringify writes it
          out[at++] = 0x30;
          out[at++] = 0x30;
          out[at++] = hex.charCodeAt(b >> 4);
          out[at++] = hex.charCodeAt(b & 15);
        }
      }
    }
    out[at++] = 0x22;
    // ASCII is UTF-8; anything else is checked (as protobuf-es's decoder does).
    if (high >= 0x80 && !isUtf8(bytes.subarray(from, to))) return false;
    this.length = at;
    return true;
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + bytes));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }
}

/**
 * Where the reading of an entry is (one entry is read at a time). {@link varint} reads at it and moves it past what
 * it read.
 */
let at = 0;

/**
 * The varint at {@link at}, ending before `end`, as a number; -1 for one this path leaves to protobuf-es: cut short, or
 * of more than seven bytes (2^49 and more: a log id or version no store reaches, a negative int64 or int32).
 */
function varint(bytes: Uint8Array, end: number): number {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 7 && at < end; i++) {
    const b = bytes[at++]!;
    value += (b & 0x7f) * scale;
    if (b < 0x80) return value;
    scale *= 128;
  }
  return -1;
}

/** Whether a[from, to) holds the bytes of b from `at`. */
function sameBytes(a: Uint8Array, from: number, to: number, b: Uint8Array, at: number): boolean {
  for (let i = from; i < to; i++) if (a[i] !== b[at + i - from]) return false;
  return true;
}

const hex = "0123456789abcdef";
/** JSON.stringify's two-character escapes, by the byte escaped. */
const shortEscapes: Record<number, number> = {
  0x08: 0x62, // \b
  0x09: 0x74, // \t
  0x0a: 0x6e, // \n
  0x0c: 0x66, // \f
  0x0d: 0x72, // \r
  0x22: 0x22, // \"
  0x5c: 0x5c, // \\
};
