import { create, fromJsonString, toJsonString } from "@bufbuild/protobuf";
import { TimestampSchema } from "@bufbuild/protobuf/wkt";
import { AppLogEntrySchema, EventSchema, OriginatorSchema } from "@eskit/client";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { anyLogEntry as entry } from "../test/support/log-entries.js";
import { entryFromLine, entryLine } from "./entry-json.js";

/** What protobuf-es reads from `line`, or its error. */
function protobufEs(line: string): { entry: unknown } | { error: string } {
  try {
    return { entry: fromJsonString(AppLogEntrySchema, line) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}
function fast(line: string): { entry: unknown } | { error: string } {
  try {
    return { entry: entryFromLine(line) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

// Lines as a person or another tool might write them: fields in any order, aliases (event_type), repeated keys,
// numbers for ids, nulls, times with offsets or impossible dates, metadata keys a JavaScript object reorders.
const pick = <T>(...values: T[]) => fc.constantFrom(...values);
const idValue = fc.oneof(
  pick('"1"', '"42"', '"0"', '"01"', "7", '"18446744073709551615"', '"18446744073709551616"', "null", '"x"', '"-1"'),
  fc.bigInt({ min: 1n, max: 0xffff_ffff_ffff_ffffn }).map((n) => `"${n}"`),
);
const stringValue = fc.oneof(
  fc.string({ unit: "binary", maxLength: 8 }).map((t) => JSON.stringify(t)),
  pick('"\\ud800"', '"\\u0041"', "null", "3", '""'),
);
const timeValue = fc.oneof(
  pick(
    '"2026-01-01T00:00:00Z"',
    '"2026-01-01T00:00:00.5Z"',
    '"2026-01-01T00:00:00.120Z"',
    '"2026-01-01T00:00:00.123456789Z"',
    '"2026-01-01T01:00:00+01:00"',
    '"2026-02-30T00:00:00Z"',
    '"2026-13-01T00:00:00Z"',
    '"0000-12-31T23:59:59Z"',
    '"2026-01-01t00:00:00Z"',
    "0",
  ),
  fc
    .record({
      seconds: fc.bigInt({ min: -62_135_596_800n, max: 253_402_300_799n }),
      nanos: fc.integer({ min: 0, max: 999_999_999 }),
    })
    .map((t) => toJsonString(TimestampSchema, create(TimestampSchema, t))),
);
const member = (names: fc.Arbitrary<string>, value: fc.Arbitrary<string>) =>
  fc.tuple(names, value).map(([name, v]) => `${JSON.stringify(name)}:${v}`);
const object = (members: fc.Arbitrary<string>, maxLength: number) =>
  fc.array(members, { maxLength }).map((list) => `{${list.join(",")}}`);
const originatorValue = object(fc.oneof(member(pick("id"), stringValue), member(pick("version"), idValue)), 3);
const metadataValue = object(member(pick("a", "b", "1", "0", "__proto__", ""), stringValue), 4);
const eventValue = object(
  fc.oneof(
    member(pick("originator"), originatorValue),
    member(pick("eventType", "event_type"), stringValue),
    member(pick("payload"), stringValue),
    member(pick("occurredOn", "occurred_on"), timeValue),
    member(pick("eventId", "event_id"), stringValue),
    member(pick("metadata"), metadataValue),
    member(pick("other"), pick("1", "null")),
  ),
  7,
);
const anyLine = fc.oneof(
  object(
    fc.oneof(
      member(pick("id"), idValue),
      member(pick("event"), eventValue),
      // A key written with an escape is the same key; an array is no field's value.
      pick('"\\u0069d":"5"', '"id":["1"]'),
    ),
    3,
  ),
  // Canonical lines, sometimes with a space or a newline around them.
  fc.tuple(entry, pick("", " ", "\r")).map(([e, around]) => `${around}${entryLine(e)}`),
);

describe("entryFromLine", () => {
  it("reads any line exactly as protobuf-es's fromJsonString reads it, or fails with its error", () => {
    fc.assert(
      fc.property(anyLine, (line) => {
        expect(fast(line)).toEqual(protobufEs(line));
      }),
      { numRuns: 5000 },
    );
  });
});

describe("entryLine", () => {
  it("writes exactly what protobuf-es's toJsonString writes, and reads back to the same entry", () => {
    fc.assert(
      fc.property(entry, (e) => {
        const line = entryLine(e);
        expect(line).toBe(toJsonString(AppLogEntrySchema, e));
        expect(entryFromLine(line)).toEqual(e);
        expect(entryFromLine(line)).toEqual(fromJsonString(AppLogEntrySchema, line));
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
