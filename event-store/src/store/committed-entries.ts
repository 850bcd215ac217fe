import type { LogEntry, StoredEvent } from "../domain/event.js";
import { noMetadata } from "../storage/event-row-text.js";

/** One request a batch wrote: its events and the log ids they were given, in the same order. */
export interface WrittenRequest {
  readonly events: readonly StoredEvent[];
  readonly logIds: readonly bigint[];
}

/** How many events `written` holds. */
export function eventCount(written: readonly WrittenRequest[]): number {
  let count = 0;
  for (const request of written) count += request.events.length;
  return count;
}

/** The lowest log id among `written`; undefined when it holds no event. */
export function firstLogId(written: readonly WrittenRequest[]): bigint | undefined {
  let first: bigint | undefined;
  for (const request of written) {
    for (const id of request.logIds) if (first === undefined || id < first) first = id;
  }
  return first;
}

/**
 * The log entries a batch wrote, in id order, exactly as a read of the log returns them (read-log.ts with
 * event-row-text.ts): what the database does to a value on the way in is done here too. The event ids and actions
 * are already as stored (validate-append.ts lower-cases the ids, and splits the event type as a read does); the
 * metadata becomes a map whose keys come in the order jsonb keeps them (then as JavaScript orders an object's keys,
 * which JSON.parse of that text does as well). committed-entries.int.spec.ts holds them equal for any appended events.
 */
export function committedEntries(written: readonly WrittenRequest[]): LogEntry[] {
  const entries: LogEntry[] = [];
  let sorted = true;
  for (const request of written) {
    request.events.forEach((event, i) => {
      const id = request.logIds[i]!;
      if (entries.length > 0 && entries.at(-1)!.id >= id) sorted = false;
      entries.push({ id, event: storedEvent(event) });
    });
  }
  if (!sorted) entries.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return entries;
}

/** The event's own fields (not a ValidEvent's flags), its metadata in jsonb's order. */
function storedEvent(event: StoredEvent): StoredEvent {
  return {
    originatorId: event.originatorId,
    version: event.version,
    eventType: event.eventType,
    entityType: event.entityType,
    action: event.action,
    payload: event.payload,
    metadata: jsonbOrdered(event.metadata),
    // A fresh plain Instant, as a read makes: the request's may be another kind of object with the same fields.
    occurredOn: { seconds: event.occurredOn.seconds, nanos: event.occurredOn.nanos },
    eventId: event.eventId,
  };
}

const utf8 = new TextEncoder();

/**
 * `metadata` with its keys in jsonb's order: shorter keys first (by their UTF-8 length), then by their bytes. An
 * object built in that order iterates as `JSON.parse` of the column's text does (integer-like keys still come first,
 * by JavaScript's own rule).
 */
function jsonbOrdered(metadata: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
  const keys = Object.keys(metadata);
  if (keys.length === 0) return noMetadata;
  const bytes = new Map(keys.map((key) => [key, utf8.encode(key)]));
  keys.sort((a, b) => {
    const x = bytes.get(a)!;
    const y = bytes.get(b)!;
    if (x.length !== y.length) return x.length - y.length;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
    return 0;
  });
  // fromEntries defines own properties, as JSON.parse does: even a key "__proto__" stays a key.
  return Object.fromEntries(keys.map((key) => [key, metadata[key]!]));
}
