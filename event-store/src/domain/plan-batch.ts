import type { StoredEvent } from "./event.js";
import { ConcurrencyError, DuplicateEventError, type EventStoreError, VersionGapError } from "./errors.js";
import type { ValidEvent } from "./validate-append.js";

/** An event already stored, with its Application Log id. */
export interface ExistingEvent extends StoredEvent {
  readonly logId: bigint;
}

/** What to do with one request of a batch. */
export type RequestPlan =
  | { readonly kind: "insert" }
  /** A retry of a stored request: answer with the log ids of `sources` (stored events, or events of an earlier request of this batch). */
  | {
      readonly kind: "replay";
      readonly sources: ReadonlyArray<ExistingEvent | { readonly request: number; readonly index: number }>;
    }
  | { readonly kind: "reject"; readonly error: EventStoreError };

/**
 * Decides, for each request of a batch in order, whether it is inserted, answered as an idempotent retry, or rejected,
 * given what the database holds (`existing` by event_id, `current` versions by originator). Requests earlier in the
 * batch count as written for the ones after them, exactly as if each ran in its own transaction in this order.
 * Pure: the SQL around it lives in `append-batch.ts`.
 */
export function planBatch(
  requests: readonly (readonly ValidEvent[])[],
  existing: ReadonlyMap<string, ExistingEvent>,
  current: ReadonlyMap<string, bigint>,
): RequestPlan[] {
  const versions = new Map(current);
  const planned = new Map<string, { event: ValidEvent; request: number; index: number }>();
  return requests.map((events, requestIndex): RequestPlan => {
    // Nothing stored or planned yet (a batch's first attempt, its first request): no event of it can be known.
    if (existing.size > 0 || planned.size > 0) {
      const known = events.map((e) => existing.get(e.eventId) ?? planned.get(e.eventId));
      if (known.some((k) => k !== undefined)) {
        return planRetry(events, known);
      }
    }
    // Validation already made the versions of one originator consecutive within a request: check the first only.
    const checked = new Set<string>();
    for (const event of events) {
      if (checked.has(event.originatorId)) continue;
      checked.add(event.originatorId);
      const at = versions.get(event.originatorId) ?? 0n;
      if (event.version <= at)
        return { kind: "reject", error: new ConcurrencyError(event.originatorId, event.version, at) };
      if (event.version > at + 1n)
        return { kind: "reject", error: new VersionGapError(event.originatorId, event.version, at) };
    }
    // Only the requests after this one look at what it writes.
    if (requestIndex < requests.length - 1) {
      events.forEach((event, index) => {
        versions.set(event.originatorId, event.version);
        planned.set(event.eventId, { event, request: requestIndex, index });
      });
    }
    return { kind: "insert" };
  });
}

function planRetry(
  events: readonly ValidEvent[],
  known: ReadonlyArray<ExistingEvent | { event: ValidEvent; request: number; index: number } | undefined>,
): RequestPlan {
  const sources: Array<ExistingEvent | { request: number; index: number }> = [];
  for (const [i, event] of events.entries()) {
    const found = known[i];
    if (found === undefined) {
      return reject(
        `events[${i}].event_id ${event.eventId} is new, but other events of this request are already stored:` +
          " a retry must resend exactly the original request",
        event.eventId,
        i,
      );
    }
    const stored = "logId" in found ? found : found.event;
    const difference = differs(event, stored);
    if (difference !== undefined) {
      return reject(
        `events[${i}].event_id ${event.eventId} is already stored with another ${difference}`,
        event.eventId,
        i,
      );
    }
    sources.push("logId" in found ? found : { request: found.request, index: found.index });
  }
  return { kind: "replay", sources };
}

function reject(message: string, eventId: string, index: number): RequestPlan {
  return { kind: "reject", error: new DuplicateEventError(message, eventId, index) };
}

/** The first field in which a retried event differs from the stored one, or undefined when it is the same event. */
export function differs(event: ValidEvent, stored: StoredEvent): string | undefined {
  if (event.originatorId !== stored.originatorId) return "originator id";
  if (event.version !== stored.version) return "version";
  if (event.eventType !== stored.eventType) return "event_type";
  if (event.payload !== stored.payload) return "payload";
  if (!sameMetadata(event.metadata, stored.metadata)) return "metadata";
  if (
    event.occurredOnGiven &&
    (event.occurredOn.seconds !== stored.occurredOn.seconds || event.occurredOn.nanos !== stored.occurredOn.nanos)
  ) {
    return "occurred_on";
  }
  return undefined;
}

function sameMetadata(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && b[k] === a[k]);
}
