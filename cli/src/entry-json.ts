import { fromJsonString, toJson, toJsonString } from "@bufbuild/protobuf";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { type AppLogEntry, AppLogEntrySchema, type Event, EventSchema, type Originator } from "@eskit/client";

/**
 * Log entries and events as JSON: protobuf's canonical JSON of `AppLogEntry` and `Event` (camelCase fields, 64-bit
 * numbers as strings, the payload as the JSON text it was stored as, default values left out). This is what
 * `eskit tail --json` prints and the line format of `eskit export` and `eskit import`: one entry per line, read back
 * exactly.
 *
 * Written by hand, the very text protobuf-es's `toJsonString` gives (entry-json.unit.spec.ts holds them equal, and
 * fails when the messages gain a field): an export spends most of its time here, and protobuf-es's generic writer
 * took 7 µs per entry, a third of the command's CPU.
 */
export function entryLine(entry: AppLogEntry): string {
  const event = entry.event;
  let text = entry.id === 0n ? "{" : `{"id":"${entry.id}"`;
  if (event !== undefined) {
    const fields: string[] = [];
    const originator = event.originator;
    if (originator !== undefined) {
      const parts: string[] = [];
      if (originator.id !== "") parts.push(`"id":${JSON.stringify(originator.id)}`);
      if (originator.version !== 0n) parts.push(`"version":"${originator.version}"`);
      fields.push(`"originator":{${parts.join(",")}}`);
    }
    if (event.eventType !== "") fields.push(`"eventType":${JSON.stringify(event.eventType)}`);
    if (event.payload !== "") fields.push(`"payload":${JSON.stringify(event.payload)}`);
    if (event.occurredOn !== undefined) {
      const time = timestampJson(event.occurredOn);
      if (time === undefined) return toJsonString(AppLogEntrySchema, entry);
      fields.push(`"occurredOn":"${time}"`);
    }
    if (event.eventId !== "") fields.push(`"eventId":${JSON.stringify(event.eventId)}`);
    const keys = Object.keys(event.metadata);
    if (keys.length > 0) {
      const pairs = keys.map((key) => `${JSON.stringify(key)}:${JSON.stringify(event.metadata[key])}`);
      fields.push(`"metadata":{${pairs.join(",")}}`);
    }
    text += `${text === "{" ? "" : ","}"event":{${fields.join(",")}}`;
  }
  return `${text}}`;
}

const msMin = Date.parse("0001-01-01T00:00:00Z");
const msMax = Date.parse("9999-12-31T23:59:59Z");

/** RFC 3339 as protobuf's JSON writes it (0, 3, 6 or 9 fraction digits); undefined outside what it accepts. */
export function timestampJson(time: Timestamp): string | undefined {
  return timeJson(Number(time.seconds), time.nanos);
}

/** {@link timestampJson} of seconds and nanos as numbers. */
export function timeJson(seconds: number, nanos: number): string | undefined {
  const ms = seconds * 1000;
  if (ms < msMin || ms > msMax || nanos < 0 || nanos > 999_999_999) return undefined;
  // A log's entries come in time order, many on the same day: its date is formatted once (Date's toISOString took
  // about 1 µs an entry when every entry had a second of its own), the time of day by hand.
  const day = Math.floor(ms / msPerDay);
  if (day !== lastDay.day) lastDay = { day, text: new Date(day * msPerDay).toISOString().slice(0, 11) };
  const second = (ms - day * msPerDay) / 1000;
  const text = `${lastDay.text}${twoDigits[Math.floor(second / 3600)]}:${twoDigits[Math.floor(second / 60) % 60]}:${twoDigits[second % 60]}`;
  if (nanos === 0) return `${text}Z`;
  const digits = String(nanos + 1_000_000_000);
  const fraction =
    nanos % 1_000_000 === 0 ? digits.slice(1, 4) : nanos % 1000 === 0 ? digits.slice(1, 7) : digits.slice(1);
  return `${text}.${fraction}Z`;
}
const msPerDay = 86_400_000;
const twoDigits = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, "0"));
let lastDay = { day: Number.NaN, text: "" };

/**
 * A line's entry: what protobuf-es's `fromJsonString(AppLogEntrySchema, line)` gives, or the error it throws. A line
 * of the fields entryLine writes, under their JSON names (in any order), with ids as decimal strings and times in UTC,
 * is read here from `JSON.parse`'s value, which an import does for every line (protobuf-es's generic reader took
 * 10-16 µs a line, most of the command's CPU); any other line (an alias, a null, a number for an id, a repeated key,
 * which protobuf-es refuses) goes to protobuf-es. entry-json.unit.spec.ts holds the two equal.
 */
export function entryFromLine(line: string): AppLogEntry {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return fromJsonString(AppLogEntrySchema, line);
  }
  const entry = entryOf(json);
  return entry !== undefined && !mayRepeatKeys(line) ? entry : fromJsonString(AppLogEntrySchema, line);
}

/**
 * Whether an object of `text` (which JSON.parse accepted) may name a key twice: JSON.parse keeps the last one, where
 * protobuf-es refuses the line. Keys are compared as the strings they stand for (as protobuf-es compares them); an
 * object of many keys, or an array, counts as one that may.
 */
function mayRepeatKeys(text: string): boolean {
  const objects: string[][] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i;
      let escaped = false;
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x22) break;
        if (d === 0x5c) {
          escaped = true;
          i++;
        }
      }
      if (!expectKey) continue;
      expectKey = false;
      const keys = objects[objects.length - 1]!;
      const key = escaped ? (JSON.parse(text.slice(start, i + 1)) as string) : text.slice(start + 1, i);
      if (keys.length === 64 || keys.includes(key)) return true;
      keys.push(key);
    } else if (c === 0x7b /* { */) {
      objects.push([]);
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      // No field read here holds an array: such a line is protobuf-es's to read anyway.
      return true;
    } else if (c === 0x7d /* } */) {
      objects.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = true;
    }
  }
  return false;
}

type Json = { readonly [key: string]: unknown };
const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);
/** A string protobuf-es accepts: it refuses one with a lone surrogate ("invalid UTF8"), left to it to say so. */
const plainString = (value: unknown): value is string =>
  typeof value === "string" && (value as unknown as { isWellFormed(): boolean }).isWellFormed();
/** A uint64 as entryLine writes it: decimal, no leading zero, not 0 (which it leaves out), below 2^64. */
const uint64Text = /^[1-9][0-9]{0,19}$/u;
const uint64Max = 0xffff_ffff_ffff_ffffn;

function uint64Of(value: unknown): bigint | undefined {
  if (typeof value !== "string") return undefined;
  // Up to 15 digits, read here as a number (exact below 2^53); longer ones through the pattern and BigInt.
  const length = value.length;
  if (length === 0 || length > 15) return uint64OfText(value);
  let n = value.charCodeAt(0) - 0x30;
  if (n < 1 || n > 9) return undefined;
  for (let i = 1; i < length; i++) {
    const digit = value.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return undefined;
    n = n * 10 + digit;
  }
  return BigInt(n);
}

function uint64OfText(value: string): bigint | undefined {
  if (!uint64Text.test(value)) return undefined;
  const n = BigInt(value);
  return n <= uint64Max ? n : undefined;
}

function entryOf(json: unknown): AppLogEntry | undefined {
  if (!isObject(json)) return undefined;
  const entry: AppLogEntry = { $typeName: "eskit.eventstore.v1.AppLogEntry", id: 0n };
  for (const key in json) {
    const value = json[key];
    if (key === "id") {
      const id = uint64Of(value);
      if (id === undefined) return undefined;
      entry.id = id;
    } else if (key === "event") {
      const event = eventOf(value);
      if (event === undefined) return undefined;
      entry.event = event;
    } else return undefined;
  }
  return entry;
}

function eventOf(json: unknown): Event | undefined {
  if (!isObject(json)) return undefined;
  const event: Event = {
    $typeName: "eskit.eventstore.v1.Event",
    eventType: "",
    payload: "",
    eventId: "",
    metadata: {},
  };
  for (const key in json) {
    const value = json[key];
    switch (key) {
      case "originator": {
        if (!isObject(value)) return undefined;
        const originator: Originator = { $typeName: "eskit.eventstore.v1.Originator", id: "", version: 0n };
        for (const field in value) {
          const v = value[field];
          if (field === "id" && plainString(v)) originator.id = v;
          else if (field === "version") {
            const version = uint64Of(v);
            if (version === undefined) return undefined;
            originator.version = version;
          } else return undefined;
        }
        event.originator = originator;
        break;
      }
      case "eventType":
      case "payload":
      case "eventId":
        if (!plainString(value)) return undefined;
        event[key] = value;
        break;
      case "occurredOn": {
        const time = typeof value === "string" ? timestampOf(value) : undefined;
        if (time === undefined) return undefined;
        event.occurredOn = time;
        break;
      }
      case "metadata":
        if (!isObject(value)) return undefined;
        for (const name in value) {
          const v = value[name];
          // "__proto__" would set the object's prototype here.
          if (name === "__proto__" || !plainString(name) || !plainString(v)) return undefined;
          event.metadata[name] = v;
        }
        break;
      default:
        return undefined;
    }
  }
  return event;
}

/** `YYYY-MM-DDTHH:MM:SS[.f{3,6,9}]Z` as timestampJson writes it; any other time is left to protobuf-es. */
const utcTime = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{3}|\d{6}|\d{9}))?Z$/u;
let lastParsed = { text: "", seconds: 0n };

function timestampOf(text: string): Timestamp | undefined {
  // Most times of a file share their second with the one before: that second was checked already, and the fraction
  // is read by hand. Any other goes through the pattern.
  const length = text.length;
  const cached = lastParsed.text;
  if (
    cached.length === 19 &&
    (length === 20 || length === 24 || length === 27 || length === 30) &&
    text.charCodeAt(length - 1) === 0x5a /* Z */ &&
    text.startsWith(cached)
  ) {
    if (length === 20) return { $typeName: "google.protobuf.Timestamp", seconds: lastParsed.seconds, nanos: 0 };
    if (text.charCodeAt(19) === 0x2e /* . */) {
      let nanos = 0;
      for (let i = 20; i < length - 1; i++) {
        const digit = text.charCodeAt(i) - 0x30;
        if (digit < 0 || digit > 9) return undefined;
        nanos = nanos * 10 + digit;
      }
      nanos *= length === 24 ? 1_000_000 : length === 27 ? 1000 : 1;
      return { $typeName: "google.protobuf.Timestamp", seconds: lastParsed.seconds, nanos };
    }
  }
  const match = utcTime.exec(text);
  if (match === null) return undefined;
  const second = match[1]!;
  if (second !== lastParsed.text) {
    const ms = Date.parse(`${second}Z`);
    // Only a real time of the range, written as toISOString writes it (no February 30th rolled over).
    if (!(ms >= msMin && ms <= msMax) || new Date(ms).toISOString().slice(0, 19) !== second) return undefined;
    lastParsed = { text: second, seconds: BigInt(ms / 1000) };
  }
  const fraction = match[2];
  const nanos = fraction === undefined ? 0 : Number(fraction.padEnd(9, "0"));
  return { $typeName: "google.protobuf.Timestamp", seconds: lastParsed.seconds, nanos };
}

export function eventJson(event: Event): unknown {
  return toJson(EventSchema, event);
}
