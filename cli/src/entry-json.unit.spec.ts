import { create, toJsonString } from "@bufbuild/protobuf";
import { AppLogEntrySchema, EventSchema, OriginatorSchema } from "@eskit/client";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { entryFromLine, entryLine } from "./entry-json.js";

const text = fc.string({ unit: "binary", maxLength: 30 });
const uint64 = fc.bigInt({ min: 0n, max: 0xffff_ffff_ffff_ffffn });
const timestamp = fc.record({
  // 0001-01-01 to 9999-12-31, as protobuf's JSON allows.
  seconds: fc.bigInt({ min: -62_135_596_800n, max: 253_402_300_799n }),
  nanos: fc.oneof(
    fc.constant(0),
    fc.integer({ min: 0, max: 999 }).map((ms) => ms * 1_000_000),
    fc.integer({ min: 0, max: 999_999 }).map((us) => us * 1000),
    fc.integer({ min: 0, max: 999_999_999 }),
  ),
});
const entry = fc
  .record({
    id: uint64,
    event: fc.option(
      fc.record({
        originator: fc.option(fc.record({ id: text, version: uint64 }), { nil: undefined }),
        eventType: text,
        payload: fc.oneof(text, fc.json()),
        occurredOn: fc.option(timestamp, { nil: undefined }),
        eventId: fc.oneof(fc.constant(""), fc.uuid()),
        metadata: fc.dictionary(text, text, { maxKeys: 4 }),
      }),
      { nil: undefined },
    ),
  })
  .map((init) => create(AppLogEntrySchema, init));

describe("entryLine", () => {
  it("writes exactly what protobuf-es's toJsonString writes, and reads back to the same entry", () => {
    fc.assert(
      fc.property(entry, (e) => {
        const line = entryLine(e);
        expect(line).toBe(toJsonString(AppLogEntrySchema, e));
        expect(entryFromLine(line)).toEqual(e);
      }),
      { numRuns: 2000 },
    );
  });

  it("refuses a time protobuf's JSON cannot hold, as toJsonString does", () => {
    const e = create(AppLogEntrySchema, {
      id: 1n,
      event: { occurredOn: { seconds: 253_402_300_800n, nanos: 0 } },
    });
    expect(() => entryLine(e)).toThrow(/must be from 0001-01-01/u);
  });

  it("knows every field of the messages it writes (a new field must be added to entryLine)", () => {
    expect(AppLogEntrySchema.fields.map((f) => f.name)).toEqual(["id", "event"]);
    expect(EventSchema.fields.map((f) => f.name)).toEqual([
      "originator",
      "event_type",
      "payload",
      "occurred_on",
      "event_id",
      "metadata",
    ]);
    expect(OriginatorSchema.fields.map((f) => f.name)).toEqual(["id", "version"]);
  });
});
