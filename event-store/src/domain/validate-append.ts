import { randomUUID } from "node:crypto";
import { type NewEvent, type StoredEvent, now } from "./event.js";
import { parseEventType } from "./event-type.js";
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
  const time = now();
  return events.map((event, i) => {
    const where = `events[${i}]`;
    const bytes = Buffer.byteLength(event.payload, "utf8");
    if (bytes > limits.maxEventBytes) {
      throw new LimitExceededError(`${where}.payload is ${bytes} bytes: at most ${limits.maxEventBytes} per event`);
    }
    requestBytes += bytes;
    if (requestBytes > limits.maxRequestBytes) {
      throw new LimitExceededError(
        `the payloads of this request exceed ${limits.maxRequestBytes} bytes (at ${where}): split it into several requests`,
      );
    }
    checkId(event.originatorId, `${where}.originator.id`);
    if (event.version < 1n) {
      throw new ValidationError(`${where}.originator.version is ${event.version}: versions start at 1`);
    }
    const previous = lastVersion.get(event.originatorId);
    if (previous !== undefined && event.version !== previous + 1n) {
      throw new ValidationError(
        `${where}.originator.version is ${event.version}, but the previous event of "${event.originatorId}" in this` +
          ` request has version ${previous}: events of one originator in a request must have consecutive versions`,
      );
    }
    lastVersion.set(event.originatorId, event.version);
    const { entityType, action } = parseEventType(event.eventType, `${where}.event_type`);
    const payload = event.payload === "" ? "{}" : event.payload;
    checkJson(payload, `${where}.payload`);
    const eventId = event.eventId === undefined || event.eventId === "" ? randomUUID() : event.eventId.toLowerCase();
    if (!uuidPattern.test(eventId)) throw new ValidationError(`${where}.event_id "${event.eventId}" is not a UUID`);
    if (seenIds.has(eventId)) throw new ValidationError(`${where}.event_id ${eventId} appears twice in this request`);
    seenIds.add(eventId);
    for (const [key, value] of Object.entries(event.metadata)) {
      if (key.length === 0) throw new ValidationError(`${where}.metadata has an empty key`);
      // JavaScript clients (protobuf-es, JSON.parse into plain objects) cannot hold this key: it would vanish on read.
      if (key === "__proto__") throw new ValidationError(`${where}.metadata key "__proto__" is not allowed`);
      if (key.includes("\u0000") || value.includes("\u0000")) {
        throw new ValidationError(`${where}.metadata["${key}"] contains a NUL character, which cannot be stored`);
      }
    }
    const occurredOn = event.occurredOn ?? time;
    if (occurredOn.seconds < minSeconds || occurredOn.seconds > maxSeconds) {
      throw new ValidationError(`${where}.occurred_on is outside 0001-01-01..9999-12-31`);
    }
    if (!Number.isInteger(occurredOn.nanos) || occurredOn.nanos < 0 || occurredOn.nanos > 999_999_999) {
      throw new ValidationError(`${where}.occurred_on.nanos is ${occurredOn.nanos}: expected 0..999999999`);
    }
    return {
      originatorId: event.originatorId,
      version: event.version,
      eventType: event.eventType,
      entityType,
      action,
      payload,
      occurredOn,
      occurredOnGiven: event.occurredOn !== undefined,
      eventId,
      eventIdGiven: event.eventId !== undefined && event.eventId !== "",
      metadata: event.metadata,
    };
  });
}

/** Checks an originator or consumer id: 1..255 characters, no NUL (PostgreSQL text cannot hold it). */
export function checkId(id: string, where: string): void {
  if (id.length === 0) throw new ValidationError(`${where} is empty`);
  if (id.length > maxIdLength)
    throw new ValidationError(`${where} is ${id.length} characters long: at most ${maxIdLength}`);
  if (id.includes("\u0000")) throw new ValidationError(`${where} contains a NUL character`);
}

function checkJson(payload: string, where: string): void {
  try {
    JSON.parse(payload);
  } catch (error) {
    throw new ValidationError(`${where} is not valid JSON: ${(error as Error).message}`);
  }
  // Valid JSON can still carry an escaped NUL, which is fine as text; a raw NUL cannot reach here (JSON forbids it).
}
