import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { EventSchema, OriginatorSchema, type Event } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";

/**
 * An event as an application writes it: flat, with a plain payload and a Date, instead of the nested proto
 * message with JSON text and a Timestamp.
 */
export interface NewEvent {
  originatorId: string;
  /** 1 for an originator's first event, then consecutive; the store rejects anything else as a conflict. */
  version: bigint;
  /** `<EntityType>.<Action>`, e.g. `User.Created`. */
  eventType: string;
  /** A string is sent as is (it must already be JSON text); anything else is JSON-encoded. Absent means `{}`. */
  payload?: unknown;
  /** A UUID; set it to make a retried append idempotent. The store generates one when absent. */
  eventId?: string;
  metadata?: Record<string, string>;
  /** The store uses its own clock when absent. */
  occurredOn?: Date;
}

/**
 * Encodes a payload as the JSON text the store keeps byte for byte. Strings pass through untouched so a caller
 * who already holds JSON text (or cares about key order and spacing) gets exactly those bytes stored.
 */
export function encodePayload(payload: unknown): string {
  if (payload === undefined) {
    return "";
  }
  if (typeof payload === "string") {
    return payload;
  }
  let text: string | undefined;
  try {
    text = JSON.stringify(payload);
  } catch (cause) {
    throw new ConnectError(
      `payload is not JSON-serialisable: ${String(cause)}`,
      Code.InvalidArgument,
      undefined,
      undefined,
      cause,
    );
  }
  if (text === undefined) {
    throw new ConnectError(`payload of type ${typeof payload} is not JSON-serialisable`, Code.InvalidArgument);
  }
  return text;
}

/** Converts a {@link NewEvent} to the proto `Event` the Append RPC takes. */
export function toEvent(event: NewEvent): Event {
  return create(EventSchema, {
    originator: create(OriginatorSchema, { id: event.originatorId, version: event.version }),
    eventType: event.eventType,
    payload: encodePayload(event.payload),
    eventId: event.eventId ?? "",
    metadata: { ...event.metadata },
    ...(event.occurredOn !== undefined ? { occurredOn: timestampFromDate(event.occurredOn) } : {}),
  });
}
