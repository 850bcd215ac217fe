import { isUtf8 } from "node:buffer";
import { BinaryReader } from "@bufbuild/protobuf/wire";
import { decodeAppLogEntry } from "@eskit/client/logs-poll-decoder.js";
import { entryLine, timestampJson } from "./entry-json.js";

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
    const r = new BinaryReader(bytes);
    let id = 0n;
    let event: { start: number; end: number } | undefined;
    let last = 0;
    while (r.pos < bytes.length) {
      const tag = r.uint32();
      const no = tag >>> 3;
      if (no <= last) return undefined;
      last = no;
      if (tag === 1 << 3 /* id, varint */) id = r.uint64() as bigint;
      else if (tag === ((2 << 3) | 2) /* event */) {
        const length = r.uint32();
        event = { start: r.pos, end: r.pos + length };
        r.pos += length;
      } else return undefined;
    }
    if (r.pos !== bytes.length) return undefined;
    this.ascii(id === 0n ? "{" : `{"id":"${id}"`);
    if (event !== undefined) {
      this.ascii(id === 0n ? `"event":{` : `,"event":{`);
      r.pos = event.start;
      if (!this.writeEvent(r, bytes, event.end)) return undefined;
      this.ascii("}");
    }
    this.ascii("}\n");
    return id;
  }

  /** The event at `r.pos` up to `end`; every read checks that it stays within its field. */
  private writeEvent(r: BinaryReader, bytes: Uint8Array, end: number): boolean {
    if (end > bytes.length) return false;
    let last = 0;
    let comma = false;
    /** The metadata keys so far, as [from, to) pairs. */
    let keys: number[] | undefined;
    let metadataOpen = false;
    while (r.pos < end) {
      const tag = r.uint32();
      const no = tag >>> 3;
      // Metadata entries (6) repeat; any other field comes once, in order.
      if (no < last || (no === last && no !== 6)) return false;
      if (no !== 6 && metadataOpen) return false;
      last = no;
      if ((tag & 7) !== 2) return false;
      const length = r.uint32();
      const from = r.pos;
      const to = from + length;
      if (to > end) return false;
      r.pos = to;
      switch (no) {
        case 1: {
          // originator: id (1), version (2)
          const o = r;
          o.pos = from;
          let idFrom = -1;
          let idTo = -1;
          let version = 0n;
          let seen = 0;
          while (o.pos < to) {
            const t = o.uint32();
            if (t >>> 3 <= seen) return false;
            seen = t >>> 3;
            if (t === ((1 << 3) | 2)) {
              const n = o.uint32();
              idFrom = o.pos;
              idTo = o.pos + n;
              if (idTo > to) return false;
              o.pos = idTo;
            } else if (t === 2 << 3) version = o.uint64() as bigint;
            else return false;
          }
          if (o.pos !== to) return false;
          this.key('"originator":', comma);
          comma = true;
          this.ascii("{");
          if (idTo > idFrom) {
            this.ascii(`"id":`);
            if (!this.jsonString(bytes, idFrom, idTo)) return false;
          }
          if (version !== 0n) this.ascii(idTo > idFrom ? `,"version":"${version}"` : `"version":"${version}"`);
          this.ascii("}");
          break;
        }
        case 2:
        case 3:
        case 5:
          if (length === 0) break;
          this.key(no === 2 ? '"eventType":' : no === 3 ? '"payload":' : '"eventId":', comma);
          comma = true;
          if (!this.jsonString(bytes, from, to)) return false;
          break;
        case 4: {
          // occurredOn: seconds (1), nanos (2)
          const t = r;
          t.pos = from;
          let seconds = 0n;
          let nanos = 0;
          let seen = 0;
          while (t.pos < to) {
            const tag4 = t.uint32();
            if (tag4 >>> 3 <= seen) return false;
            seen = tag4 >>> 3;
            if (tag4 === 1 << 3) seconds = t.int64() as bigint;
            else if (tag4 === 2 << 3) nanos = t.int32();
            else return false;
          }
          if (t.pos !== to) return false;
          const time = timestampJson({ $typeName: "google.protobuf.Timestamp", seconds, nanos });
          if (time === undefined) return false;
          this.key('"occurredOn":', comma);
          comma = true;
          this.ascii(`"${time}"`);
          break;
        }
        case 6: {
          // A metadata entry: key (1), value (2).
          const m = r;
          m.pos = from;
          let keyFrom = from;
          let keyTo = from;
          let valueFrom = from;
          let valueTo = from;
          let seen = 0;
          while (m.pos < to) {
            const t = m.uint32();
            if (t >>> 3 <= seen || (t & 7) !== 2 || t >>> 3 > 2) return false;
            seen = t >>> 3;
            const n = m.uint32();
            if (m.pos + n > to) return false;
            if (seen === 1) [keyFrom, keyTo] = [m.pos, m.pos + n];
            else [valueFrom, valueTo] = [m.pos, m.pos + n];
            m.pos += n;
          }
          if (m.pos !== to) return false;
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
    }
    if (metadataOpen) this.ascii("}");
    return r.pos === end;
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
