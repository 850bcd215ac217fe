import fc from "fast-check";
import type { LogEntry } from "../../src/domain/event.js";
import type { LogRowText } from "../../src/store/read-log-bytes.js";

const uint64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const text = fc.oneof(fc.string(), fc.string({ unit: "grapheme" }), fc.string({ unit: "binary" }), fc.constant(""));
/** Map keys as JSON and JavaScript objects treat them apart: integer-like ones (ordered first), and prototype names. */
const key = fc.oneof(text, fc.nat().map(String), fc.constantFrom("__proto__", "constructor", "toString"));

/** Seconds JSON can write (0001-01-01 to 9999-12-31), plus the first ones past each end and the epoch. */
const seconds = fc.oneof(
  fc.bigInt({ min: -62_135_596_800n, max: 253_402_300_799n }),
  fc.constantFrom(-62_135_596_801n, 253_402_300_800n, 0n),
);

/** Nanos that JSON writes with 0, 3, 6 and 9 fractional digits. */
const nanos = fc.oneof(
  fc.constant(0),
  fc.integer({ min: 0, max: 999_999_999 }),
  fc.integer({ min: 1, max: 999 }).map((n) => n * 1_000_000),
  fc.integer({ min: 1, max: 999_999 }).map((n) => n * 1000),
);

/** Any log entry the encoders must write as protobuf-es does: zero values, the largest integers, odd text. */
export const logEntryArbitrary: fc.Arbitrary<LogEntry> = fc.record({
  id: uint64,
  event: fc.record({
    originatorId: text,
    version: uint64,
    eventType: text,
    entityType: fc.constant("T"),
    action: fc.constant("A"),
    payload: fc.oneof(text, fc.json()),
    occurredOn: fc.record({ seconds, nanos }),
    eventId: fc.oneof(fc.uuid(), fc.constant("")),
    metadata: fc.dictionary(key, text, { maxKeys: 5 }),
  }),
});

/** An entry whose every field is its zero value, with `event` fields replaced by `changes`: the encoders' edge cases. */
export function zeroEntry(id: bigint, changes: Partial<LogEntry["event"]> = {}): LogEntry {
  return {
    id,
    event: {
      originatorId: "",
      version: 0n,
      eventType: "",
      entityType: "",
      action: "",
      payload: "",
      occurredOn: { seconds: 0n, nanos: 0 },
      eventId: "",
      metadata: {},
      ...changes,
    },
  };
}

/** The same, with times JSON can write (protobuf-es refuses the others). */
export const jsonableLogEntryArbitrary = logEntryArbitrary.filter(
  (e) => e.event.occurredOn.seconds >= -62_135_596_800n && e.event.occurredOn.seconds <= 253_402_300_799n,
);

export { text as textArbitrary, uint64 as uint64Arbitrary };

/** The row the page query returns for the entry: int8 columns as decimal text, metadata as JSON text. */
export function logRowOf(e: LogEntry, metadataText = JSON.stringify(e.event.metadata)): LogRowText {
  return {
    log_id: e.id.toString(),
    originator_id: e.event.originatorId,
    version: e.event.version.toString(),
    entity_type: e.event.entityType,
    event_type: e.event.eventType,
    payload: e.event.payload,
    metadata: metadataText,
    occurred_on_seconds: e.event.occurredOn.seconds.toString(),
    occurred_on_nanos: e.event.occurredOn.nanos,
    event_id: e.event.eventId,
  };
}
