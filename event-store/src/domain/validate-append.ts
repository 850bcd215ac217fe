import { randomUUID } from "node:crypto";
import { type NewEvent, type StoredEvent, now } from "./event.js";
import { type EventTypeParts, parseEventType } from "./event-type.js";
import { LimitExceededError, ValidationError } from "./errors.js";

/** An event that passed every check that needs no database, completed with its defaults. */
export interface ValidEvent extends StoredEvent {
  /** Whether the client gave occurred_on (an idempotent retry is compared on it only then). */
  readonly occurredOnGiven: boolean;
  /** Whether the client chose the event_id: only such an event can be a retry of one already stored. */
  readonly eventIdGiven: boolean;
}

export interface AppendLimits {
  readonly maxEventBytes: number;
  readonly maxRequestBytes: number;
  readonly maxEvents: number;
}

const maxIdLength = 255;
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/iu;
// Protobuf Timestamp's range: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999999999Z.
const minSeconds = -62_135_596_800n;
const maxSeconds = 253_402_300_799n;

/**
 * Checks one Append request and fills in defaults (payload `{}`, event_id, occurred_on). Throws the first problem
 * found, naming the event by its index, so a rejected request has changed nothing.
 */
export function validateAppend(events: readonly NewEvent[], limits: AppendLimits): ValidEvent[] {
  if (events.length === 0) throw new ValidationError("events is empty: append needs at least one event");
  if (events.length > limits.maxEvents) {
    throw new LimitExceededError(
      `this request has ${events.length} events: at most ${limits.maxEvents} per request; split it into several requests`,
    );
  }
  let requestBytes = 0;
  const seenIds = new Set<string>();
  const lastVersion = new Map<string, bigint>();
  // A request's events mostly share a few event types: each is parsed once (a type in here passed every check).
  const eventTypes = new Map<string, EventTypeParts>();
  const time = now();
  const valid: ValidEvent[] = [];
  // The checks come in a fixed order (the first problem is the one reported); a message, and the event's name in it
  // (`events[i]`), is built only when a check fails.
  for (let i = 0; i < events.length; i++) {
    const event = events[i]!;
    const bytes = Buffer.byteLength(event.payload, "utf8");
    if (bytes > limits.maxEventBytes) {
      throw new LimitExceededError(`${at(i)}.payload is ${bytes} bytes: at most ${limits.maxEventBytes} per event`);
    }
    requestBytes += bytes;
    if (requestBytes > limits.maxRequestBytes) {
      throw new LimitExceededError(
        `the payloads of this request exceed ${limits.maxRequestBytes} bytes (at ${at(i)}): split it into several requests`,
      );
    }
    const originatorId = event.originatorId;
    if (!validId(originatorId)) checkId(originatorId, `${at(i)}.originator.id`);
    if (event.version < 1n) {
      throw new ValidationError(`${at(i)}.originator.version is ${event.version}: versions start at 1`);
    }
    const previous = lastVersion.get(originatorId);
    if (previous !== undefined && event.version !== previous + 1n) {
      throw new ValidationError(
        `${at(i)}.originator.version is ${event.version}, but the previous event of "${originatorId}" in this` +
          ` request has version ${previous}: events of one originator in a request must have consecutive versions`,
      );
    }
    lastVersion.set(originatorId, event.version);
    let eventType = eventTypes.get(event.eventType);
    if (eventType === undefined) {
      eventType = parseEventType(event.eventType, `${at(i)}.event_type`);
      eventTypes.set(event.eventType, eventType);
    }
    const payload = event.payload === "" ? "{}" : event.payload;
    checkJson(payload, i);
    const eventId = event.eventId === undefined || event.eventId === "" ? randomUUID() : event.eventId.toLowerCase();
    if (!uuidPattern.test(eventId)) throw new ValidationError(`${at(i)}.event_id "${event.eventId}" is not a UUID`);
    if (seenIds.has(eventId)) throw new ValidationError(`${at(i)}.event_id ${eventId} appears twice in this request`);
    seenIds.add(eventId);
    const metadata = event.metadata;
    for (const key of Object.keys(metadata)) {
      const value = metadata[key]!;
      if (key.length === 0) throw new ValidationError(`${at(i)}.metadata has an empty key`);
      // JavaScript clients (protobuf-es, JSON.parse into plain objects) cannot hold this key: it would vanish on read.
      if (key === "__proto__") throw new ValidationError(`${at(i)}.metadata key "__proto__" is not allowed`);
      if (key.includes("\u0000") || value.includes("\u0000")) {
        throw new ValidationError(`${at(i)}.metadata["${key}"] contains a NUL character, which cannot be stored`);
      }
    }
    const occurredOn = event.occurredOn ?? time;
    if (occurredOn.seconds < minSeconds || occurredOn.seconds > maxSeconds) {
      throw new ValidationError(`${at(i)}.occurred_on is outside 0001-01-01..9999-12-31`);
    }
    if (!Number.isInteger(occurredOn.nanos) || occurredOn.nanos < 0 || occurredOn.nanos > 999_999_999) {
      throw new ValidationError(`${at(i)}.occurred_on.nanos is ${occurredOn.nanos}: expected 0..999999999`);
    }
    valid.push({
      originatorId,
      version: event.version,
      eventType: event.eventType,
      entityType: eventType.entityType,
      action: eventType.action,
      payload,
      occurredOn,
      occurredOnGiven: event.occurredOn !== undefined,
      eventId,
      eventIdGiven: event.eventId !== undefined && event.eventId !== "",
      metadata,
    });
  }
  return valid;
}

/** How a request's message names its event `i`. */
function at(i: number): string {
  return `events[${i}]`;
}

/** Whether {@link checkId} finds nothing wrong with `id`. */
function validId(id: string): boolean {
  return id.length !== 0 && id.length <= maxIdLength && !id.includes("\u0000");
}

/** Checks an originator or consumer id: 1..255 characters, no NUL (PostgreSQL text cannot hold it). */
export function checkId(id: string, where: string): void {
  if (id.length === 0) throw new ValidationError(`${where} is empty`);
  if (id.length > maxIdLength)
    throw new ValidationError(`${where} is ${id.length} characters long: at most ${maxIdLength}`);
  if (id.includes("\u0000")) throw new ValidationError(`${where} contains a NUL character`);
}

/** Checks that the payload of event `i` is JSON. */
function checkJson(payload: string, i: number): void {
  try {
    JSON.parse(payload);
  } catch (error) {
    throw new ValidationError(`${at(i)}.payload is not valid JSON: ${(error as Error).message}`);
  }
  // Valid JSON can still carry an escaped NUL, which is fine as text; a raw NUL cannot reach here (JSON forbids it).
}
