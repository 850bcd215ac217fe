import type { Instant } from "../domain/event.js";

/**
 * Where a v1 Append keeps the client's exact `occured_on` (an int64 as a decimal string; "0" when it sent 0). Its
 * presence marks an event as written through v1, so the v1 read path returns the value exactly whatever unit the
 * client used; it is set on every v1 append (also for 0: without it, a v1 read could not tell 0 from "not v1").
 */
export const occuredOnKey = "eskit.v1.occured_on";

/**
 * Set (to "true") when a v1 client appended an empty payload. The core stores `{}` for an empty payload (payloads are
 * JSON); this flag lets v1 reads give back `""`, byte for byte as sent.
 */
export const emptyPayloadKey = "eskit.v1.empty_payload";

// The original service documents occured_on as "utc unix timestamp of the event occurence", i.e. Unix seconds (Go's
// time.Unix()). Some clients send milliseconds (Date.now()); a value of 1e12 or more is year 33658 in seconds but
// 2001 in milliseconds, so such values are taken as milliseconds. Reads of events not written through v1 answer in
// seconds, the documented unit.
const millisecondsFrom = 1_000_000_000_000n;

/** The Instant a non-zero v1 `occured_on` stands for: Unix seconds, or milliseconds when |value| >= 1e12. */
export function instantFromOccuredOn(value: bigint): Instant {
  const magnitude = value < 0n ? -value : value;
  if (magnitude < millisecondsFrom) return { seconds: value, nanos: 0 };
  const seconds = floorDiv(value, 1000n);
  return { seconds, nanos: Number(value - seconds * 1000n) * 1_000_000 };
}

/** A stored Instant as v1 `occured_on`: Unix seconds (the fraction dropped, towards the past). */
export function occuredOnFromInstant(instant: Instant): bigint {
  return instant.seconds;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}
