import type { NewEvent } from "../../src/domain/event.js";
import { type ValidEvent, validateAppend } from "../../src/domain/validate-append.js";

/** Append limits roomy enough for any test's request. */
export const testLimits = { maxEventBytes: 1 << 20, maxRequestBytes: 4 << 20, maxEvents: 10_000 };

/** The events of one Append request, validated as the RPC validates them (with {@link testLimits}). */
export function validEvents(events: readonly NewEvent[]): ValidEvent[] {
  return validateAppend(events, testLimits);
}

/** A request of `count` events of one originator from `version` on, with event ids when given. */
export function validRequest(
  originatorId: string,
  version: bigint,
  count = 1,
  eventIds?: readonly string[],
): ValidEvent[] {
  return validEvents(
    Array.from({ length: count }, (_, i) => ({
      originatorId,
      version: version + BigInt(i),
      eventType: "Batch.Tested",
      payload: `{"i":${i}}`,
      metadata: {},
      ...(eventIds === undefined ? {} : { eventId: eventIds[i]! }),
    })),
  );
}
