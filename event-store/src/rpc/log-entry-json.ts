import { toJsonString } from "@bufbuild/protobuf";
import { AppLogEntrySchema, EventSchema } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import type { Instant, LogEntry, StoredEvent } from "../domain/event.js";
import { toEventMessage, toLogEntryMessage } from "./convert.js";

/**
 * A hand-written JSON encoder for AppLogEntry and Event: the text `toJsonString(AppLogEntrySchema, …)` writes (proto3
 * JSON as protobuf-es writes it: fields in declaration order, defaults left out, 64-bit integers as strings, the
 * timestamp in RFC 3339 with 0, 3, 6 or 9 fractional digits), without protobuf-es's reflection, which was most of
 * what streaming the log over Connect JSON cost. A property test holds the two equal for any entry. Shared entries
 * (the tail's, seen by every live stream) are encoded once and cached, as their binary form is.
 *
 * Field names are those of proto/eskit/eventstore/v1/event.proto; change them together.
 */
const cache = new WeakMap<LogEntry, string>();

export function logEntryJson(entry: LogEntry, shared = false): string {
  if (!shared) return entryJson(entry);
  let json = cache.get(entry);
  if (json === undefined) {
    json = entryJson(entry);
    cache.set(entry, json);
  }
  return json;
}

function entryJson(entry: LogEntry): string {
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
  if (e.originatorId !== "") originator = `"id":${JSON.stringify(e.originatorId)}`;
  if (e.version !== 0n) originator += `${originator === "" ? "" : ","}"version":"${e.version}"`;
  let out = `{"originator":{${originator}}`;
  if (e.eventType !== "") out += `,"eventType":${JSON.stringify(e.eventType)}`;
  if (e.payload !== "") out += `,"payload":${JSON.stringify(e.payload)}`;
  out += `,"occurredOn":"${timestamp(e.occurredOn)}"`;
  if (e.eventId !== "") out += `,"eventId":${JSON.stringify(e.eventId)}`;
  let metadata = "";
  for (const key in e.metadata) {
    if (!Object.hasOwn(e.metadata, key)) continue;
    metadata += `${metadata === "" ? "" : ","}${JSON.stringify(key)}:${JSON.stringify(e.metadata[key])}`;
  }
  if (metadata !== "") out += `,"metadata":{${metadata}}`;
  return `${out}}`;
}

const minMs = Date.parse("0001-01-01T00:00:00Z");
const maxMs = Date.parse("9999-12-31T23:59:59Z");

function representable(t: Instant): boolean {
  const ms = Number(t.seconds) * 1000;
  return ms >= minMs && ms <= maxMs && t.nanos >= 0 && t.nanos <= 999_999_999;
}

function timestamp(t: Instant): string {
  const iso = new Date(Number(t.seconds) * 1000).toISOString();
  if (t.nanos === 0) return iso.replace(".000Z", "Z");
  const digits = String(t.nanos + 1_000_000_000).substring(1);
  const fraction = digits.endsWith("000000")
    ? digits.substring(0, 3)
    : digits.endsWith("000")
      ? digits.substring(0, 6)
      : digits;
  return iso.replace(".000Z", `.${fraction}Z`);
}
