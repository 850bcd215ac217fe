import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter } from "@bufbuild/protobuf/wire";
import { AppLogEntrySchema } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import { LogsPollResponseSchema } from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { testSize } from "@eskit/test-kit/test-sizes.js";
import type { LogEntry } from "../domain/event.js";
import { toLogEntryMessage } from "./convert.js";
import { encodeLogEntryDelimited, preEncodedLogsPollResponse } from "./log-entry-codec.js";

const uint64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const text = fc.oneof(fc.string(), fc.string({ unit: "grapheme" }), fc.constant(""));
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
      seconds: fc.bigInt({ min: -62_135_596_800n, max: 253_402_300_799n }),
      nanos: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 999_999_999 })),
    }),
    eventId: fc.oneof(fc.uuid(), fc.constant("")),
    metadata: fc.dictionary(text, text, { maxKeys: 4 }),
  }),
});

/** What protobuf-es writes for the entry, length-prefixed like the codec's output. */
function reference(e: LogEntry): Uint8Array {
  return new BinaryWriter().bytes(toBinary(AppLogEntrySchema, toLogEntryMessage(e))).finish();
}

describe("encodeLogEntryDelimited", () => {
  it("writes exactly the bytes protobuf-es writes, for any entry", () => {
    fc.assert(
      fc.property(entry, (e) => {
        expect(Buffer.from(encodeLogEntryDelimited(e)).toString("hex")).toBe(Buffer.from(reference(e)).toString("hex"));
      }),
      { numRuns: testSize(2000) },
    );
  });

  it("encodes the extremes: zero values, the largest uint64, negative seconds", () => {
    const e: LogEntry = {
      id: 2n ** 64n - 1n,
      event: {
        originatorId: "",
        version: 0n,
        eventType: "",
        entityType: "",
        action: "",
        payload: "",
        occurredOn: { seconds: -1n, nanos: 0 },
        eventId: "",
        metadata: { "": "" },
      },
    };
    expect(Buffer.from(encodeLogEntryDelimited(e))).toEqual(Buffer.from(reference(e)));
  });
});

describe("preEncodedLogsPollResponse", () => {
  it("reads back as a LogsPollResponse holding the same entries", () => {
    // Only entries that can be stored: Append refuses a "__proto__" metadata key, which protobuf-es's decoder (the
    // reference here) cannot hold. The byte-for-byte property above still covers that key.
    const storable = entry.filter((e) => !Object.hasOwn(e.event.metadata, "__proto__"));
    fc.assert(
      fc.property(fc.array(storable, { maxLength: 5 }), (entries) => {
        const decoded = fromBinary(
          LogsPollResponseSchema,
          toBinary(LogsPollResponseSchema, preEncodedLogsPollResponse(entries)),
        );
        expect(decoded.entries).toEqual(entries.map(toLogEntryMessage));
        expect(decoded.$unknown).toBeUndefined();
      }),
      { numRuns: testSize(300) },
    );
  });
});
