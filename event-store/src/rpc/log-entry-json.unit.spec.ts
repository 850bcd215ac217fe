import { toJsonString } from "@bufbuild/protobuf";
import { AppLogEntrySchema, EventSchema } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { testSize } from "@eskit/test-kit/test-sizes.js";
import type { LogEntry } from "../domain/event.js";
import { toEventMessage, toLogEntryMessage } from "./convert.js";
import { eventJson, logEntryJson, logsResponseJson } from "./log-entry-json.js";
import { LogsResponseSchema } from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
import { create } from "@bufbuild/protobuf";

const uint64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const text = fc.oneof(fc.string(), fc.string({ unit: "grapheme" }), fc.string({ unit: "binary" }), fc.constant(""));
const key = fc.oneof(text, fc.nat().map(String), fc.constantFrom("__proto__", "constructor", "toString"));
const entry: fc.Arbitrary<LogEntry> = fc.record({
  id: uint64,
  event: fc.record({
    originatorId: text,
    version: uint64,
    eventType: text,
    entityType: fc.constant("T"),
    action: fc.constant("A"),
    payload: fc.oneof(text, fc.json()),
    occurredOn: fc.record({
      seconds: fc.oneof(
        fc.bigInt({ min: -62_135_596_800n, max: 253_402_300_799n }),
        fc.constantFrom(-62_135_596_801n, 253_402_300_800n, 0n),
      ),
      nanos: fc.oneof(
        fc.constant(0),
        fc.integer({ min: 0, max: 999_999_999 }),
        fc.integer({ min: 1, max: 999 }).map((n) => n * 1_000_000),
        fc.integer({ min: 1, max: 999_999 }).map((n) => n * 1000),
      ),
    }),
    eventId: fc.oneof(fc.uuid(), fc.constant("")),
    metadata: fc.dictionary(key, text, { maxKeys: 5 }),
  }),
});

/** protobuf-es's text for the entry, or the error it throws. */
function reference(run: () => string): string {
  try {
    return run();
  } catch (error) {
    return `throws: ${(error as Error).message}`;
  }
}

describe("logEntryJson", () => {
  it("writes exactly the text protobuf-es writes, for any entry (and throws where it throws)", () => {
    fc.assert(
      fc.property(entry, fc.boolean(), (e, shared) => {
        const expected = reference(() => toJsonString(AppLogEntrySchema, toLogEntryMessage(e)));
        expect(reference(() => logEntryJson(e, shared))).toBe(expected);
        expect(reference(() => eventJson(e.event))).toBe(
          reference(() => toJsonString(EventSchema, toEventMessage(e.event))),
        );
      }),
      { numRuns: testSize(3000) },
    );
  });

  it("writes the zero values as protobuf-es does: nothing for them but the originator and the time", () => {
    const e: LogEntry = {
      id: 0n,
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
      },
    };
    expect(logEntryJson(e)).toBe('{"event":{"originator":{},"occurredOn":"1970-01-01T00:00:00Z"}}');
    expect(logEntryJson(e)).toBe(toJsonString(AppLogEntrySchema, toLogEntryMessage(e)));
  });

  it("writes a Logs page as protobuf-es does, empty or not", () => {
    const inRange = entry.filter(
      (e) => e.event.occurredOn.seconds >= -62_135_596_800n && e.event.occurredOn.seconds <= 253_402_300_799n,
    );
    fc.assert(
      fc.property(fc.array(inRange, { maxLength: 5 }), fc.oneof(fc.constant(0n), uint64), (entries, next) => {
        const message = create(LogsResponseSchema, { entries: entries.map(toLogEntryMessage), nextFromId: next });
        expect(logsResponseJson(entries, next)).toBe(toJsonString(LogsResponseSchema, message));
      }),
      { numRuns: testSize(500) },
    );
  });
});
