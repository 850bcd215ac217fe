import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Event as StoredEvent } from "@eskit/client";
import { prettyPayload } from "../ui/pretty-payload.js";

/** How a payload is shown: indented JSON, the raw text of one that is not JSON, or the empty payload (`{}`). */
export interface PayloadView {
  readonly kind: "json" | "text" | "empty";
  readonly text: string;
}

/**
 * A payload as a person reads it, saying which kind it is: the store keeps payloads byte for byte, so one that is not
 * JSON is shown exactly as stored and labelled so, rather than hidden behind a parse error.
 */
export function payloadView(payload: string): PayloadView {
  // The proto says an empty payload means `{}`.
  if (payload === "") return { kind: "empty", text: "{}" };
  try {
    JSON.parse(payload);
  } catch {
    return { kind: "text", text: payload };
  }
  return { kind: "json", text: prettyPayload(payload) };
}

/** One stored event as the timeline and the detail show it: text only, so nothing in an event can run as code. */
export interface EventView {
  readonly version: bigint;
  readonly eventType: string;
  /** ISO 8601 in UTC, or "" when the event carries no time. */
  readonly occurredOn: string;
  readonly eventId: string;
  /** Sorted by key, so two reads of the same event look the same. */
  readonly metadata: ReadonlyArray<readonly [string, string]>;
  readonly payload: PayloadView;
}

/** The {@link EventView} of `event`. */
export function eventView(event: StoredEvent): EventView {
  return {
    version: event.originator?.version ?? 0n,
    eventType: event.eventType,
    occurredOn: event.occurredOn === undefined ? "" : timestampDate(event.occurredOn).toISOString(),
    eventId: event.eventId,
    metadata: Object.entries(event.metadata).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    payload: payloadView(event.payload),
  };
}
