import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter } from "@bufbuild/protobuf/wire";
import { AppLogEntrySchema } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import {
  BatchGetEventsResponseSchema,
  GetEventsResponseSchema,
  LogsPollResponseSchema,
} from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { testSize } from "@eskit/test-kit/test-sizes.js";
import type { LogEntry } from "../domain/event.js";
import {
  logEntryArbitrary as entry,
  textArbitrary as text,
  zeroEntry,
  uint64Arbitrary as uint64,
} from "../../test/support/log-entry-arbitrary.js";
import { toEventMessage, toLogEntryMessage } from "./convert.js";
import {
  encodeEventsResultDelimited,
  encodeLogEntryDelimited,
  preEncodedBatchGetEventsResponse,
  preEncodedGetEventsResponse,
  preEncodedLogsPollResponse,
} from "./log-entry-codec.js";

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
    const e = zeroEntry(2n ** 64n - 1n, { occurredOn: { seconds: -1n, nanos: 0 }, metadata: { "": "" } });
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

// GetEvents and BatchGetEvents answer binary protocols with the same encoder: what a client decodes must be exactly
// the ordinary message.
describe("pre-encoded GetEvents and BatchGetEvents responses", () => {
  const storable = entry.filter((e) => !Object.hasOwn(e.event.metadata, "__proto__")).map((e) => e.event);
  const snapshot = fc.option(fc.record({ version: uint64, payload: fc.oneof(text, fc.json()) }), { nil: undefined });
  const result = fc.record({ events: fc.array(storable, { maxLength: 4 }), snapshot });
  const ordinary = (r: { events: LogEntry["event"][]; snapshot: { version: bigint; payload: string } | undefined }) =>
    create(GetEventsResponseSchema, { events: r.events.map(toEventMessage), snapshot: r.snapshot });

  it("writes a result exactly as protobuf-es does", () => {
    fc.assert(
      fc.property(result, (r) => {
        const reference = new BinaryWriter().bytes(toBinary(GetEventsResponseSchema, ordinary(r))).finish();
        expect(Buffer.from(encodeEventsResultDelimited(r.events, r.snapshot)).toString("hex")).toBe(
          Buffer.from(reference).toString("hex"),
        );
      }),
      { numRuns: testSize(500) },
    );
  });

  it("reads back as the ordinary GetEventsResponse and BatchGetEventsResponse", () => {
    fc.assert(
      fc.property(fc.array(result, { maxLength: 4 }), (results) => {
        for (const r of results) {
          const one = fromBinary(
            GetEventsResponseSchema,
            toBinary(GetEventsResponseSchema, preEncodedGetEventsResponse(r.events, r.snapshot)),
          );
          expect(one).toEqual(ordinary(r));
        }
        const batch = fromBinary(
          BatchGetEventsResponseSchema,
          toBinary(BatchGetEventsResponseSchema, preEncodedBatchGetEventsResponse(results)),
        );
        expect(batch).toEqual(create(BatchGetEventsResponseSchema, { results: results.map(ordinary) }));
      }),
      { numRuns: testSize(300) },
    );
  });
});
