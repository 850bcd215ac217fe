import { create, toBinary, toJsonString } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { TimestampSchema } from "@bufbuild/protobuf/wkt";
import { AppLogEntrySchema } from "@eskit/client";
import { decodeAppLogEntry } from "@eskit/client/logs-poll-decoder.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { anyLogEntry, jsonTimestamp } from "../test/support/log-entries.js";
import { entryLine, timestampJson } from "./entry-json.js";
import { NdjsonWriter } from "./entry-ndjson.js";

/** What the writer must give for `bytes`: entryLine's text of the decoded entry, or the error decoding or writing gives. */
function expected(bytes: Uint8Array): { line: string; id: bigint } | { error: string } {
  try {
    const entry = decodeAppLogEntry(bytes);
    return { line: `${entryLine(entry)}\n`, id: entry.id };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

function written(bytes: Uint8Array): { line: string; id: bigint } | { error: string } {
  const writer = new NdjsonWriter();
  try {
    const id = writer.writeEntry(bytes);
    return { line: writer.take().toString("utf8"), id };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

// Entries in any encoding protobuf allows, and some it does not: fields in any order, repeated, empty, unknown;
// strings that are not UTF-8; metadata keys that a JavaScript object orders or treats apart; times out of range.
const bytesOf = (text: string): Uint8Array => new TextEncoder().encode(text);
const stringBytes = fc.oneof(
  fc.string({ unit: "binary", maxLength: 12 }).map(bytesOf),
  fc.constantFrom("", "__proto__", "1", "01", "4294967294", 'a\u0000"\\\n\u001f\u007f', "é", "\u2028").map(bytesOf),
  fc.uint8Array({ maxLength: 6 }),
);
/** A field: its number and how it is written. Lists of them are written in order, or sorted by number first. */
interface Field {
  readonly no: number;
  write(w: BinaryWriter): void;
}
const field = (no: number, write: (w: BinaryWriter) => void): Field => ({ no, write });
const fieldList = (fields: fc.Arbitrary<Field>, maxLength: number): fc.Arbitrary<Field[]> =>
  fc
    .tuple(fc.array(fields, { maxLength }), fc.boolean())
    .map(([list, sorted]) => (sorted ? [...list].sort((a, b) => a.no - b.no) : list));
const unknownField: fc.Arbitrary<Field> = fc
  .record({ no: fc.integer({ min: 3, max: 20 }), value: fc.integer({ min: 0, max: 300 }) })
  .map(({ no, value }) => field(no, (w) => void w.tag(no, WireType.Varint).uint32(value)));
const messageField = (no: number, fields: fc.Arbitrary<Field[]>): fc.Arbitrary<Field> =>
  fields.map((list) =>
    field(no, (w) => {
      w.tag(no, WireType.LengthDelimited).fork();
      for (const f of list) f.write(w);
      w.join();
    }),
  );
const bytesField = (no: number, bytes: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Field> =>
  bytes.map((b) => field(no, (w) => void w.tag(no, WireType.LengthDelimited).bytes(b)));
const stringField = (no: number): fc.Arbitrary<Field> => bytesField(no, stringBytes);
const uint64Field = (no: number): fc.Arbitrary<Field> =>
  fc
    .bigInt({ min: 0n, max: 0xffff_ffff_ffff_ffffn })
    .map((v) => field(no, (w) => void w.tag(no, WireType.Varint).uint64(v)));
const originator = messageField(1, fieldList(fc.oneof(stringField(1), uint64Field(2), unknownField), 3));
const occurredOn = messageField(
  4,
  fieldList(
    fc.oneof(
      fc
        .bigInt({ min: -70_000_000_000n, max: 260_000_000_000n })
        .map((s) => field(1, (w) => void w.tag(1, WireType.Varint).int64(s))),
      fc.integer({ min: -5, max: 1_000_000_005 }).map((n) => field(2, (w) => void w.tag(2, WireType.Varint).int32(n))),
      unknownField,
    ),
    3,
  ),
);
// Keys from a few, so that entries repeat one, and array indexes ("0", "7") come after other keys.
const metadataKey = bytesField(
  1,
  fc.oneof(
    { arbitrary: fc.constantFrom("0", "7", "a", "b", "__proto__", "01", "").map(bytesOf), weight: 4 },
    { arbitrary: stringBytes, weight: 1 },
  ),
);
const metadataEntry = messageField(
  6,
  fc.oneof(fc.tuple(metadataKey, stringField(2)), fieldList(fc.oneof(metadataKey, stringField(2), unknownField), 3)),
);
const event = messageField(
  2,
  fieldList(
    fc.oneof(
      originator,
      stringField(2),
      stringField(3),
      occurredOn,
      stringField(5),
      { arbitrary: metadataEntry, weight: 3 },
      unknownField,
    ),
    9,
  ),
);
const oddEntry: fc.Arbitrary<Uint8Array> = fc
  .record({
    fields: fieldList(fc.oneof(uint64Field(1), { arbitrary: event, weight: 3 }, unknownField), 3),
    cut: fc.option(fc.nat(), { nil: undefined, freq: 5 }),
  })
  .map(({ fields, cut }) => {
    const w = new BinaryWriter();
    for (const f of fields) f.write(w);
    const bytes = w.finish();
    // Sometimes cut short, as a malformed message would be.
    return cut === undefined || bytes.length === 0 ? bytes : bytes.subarray(0, cut % bytes.length);
  });

/** The Event Store's own shape (each field once, in order), with metadata entries that repeat and order keys. */
const serverShapedEntry: fc.Arbitrary<Uint8Array> = fc
  .tuple(
    fc.option(uint64Field(1), { nil: undefined }),
    fc.option(
      fc.tuple(
        fc.option(originator, { nil: undefined }),
        fc.option(stringField(2), { nil: undefined }),
        fc.option(stringField(3), { nil: undefined }),
        fc.option(occurredOn, { nil: undefined }),
        fc.option(stringField(5), { nil: undefined }),
        fc.array(messageField(6, fc.tuple(metadataKey, stringField(2))), { maxLength: 5 }),
      ),
      { nil: undefined, freq: 8 },
    ),
  )
  .map(([id, event]) => {
    const w = new BinaryWriter();
    id?.write(w);
    if (event !== undefined) {
      const [metadata, ...rest] = [event[5], ...event.slice(0, 5)] as [Field[], ...(Field | undefined)[]];
      w.tag(2, WireType.LengthDelimited).fork();
      for (const f of [...rest, ...metadata]) f?.write(w);
      w.join();
    }
    return w.finish();
  });

describe("NdjsonWriter", () => {
  it("writes an entry's line from its bytes exactly as protobuf-es's toJsonString writes the entry", () => {
    fc.assert(
      fc.property(anyLogEntry, (entry) => {
        expect(written(toBinary(AppLogEntrySchema, entry))).toEqual({
          line: `${toJsonString(AppLogEntrySchema, entry)}\n`,
          id: entry.id,
        });
      }),
      { numRuns: 3000 },
    );
  });

  it("gives entryLine's text of the decoded entry, or its error, for bytes in any encoding", () => {
    fc.assert(
      fc.property(oddEntry, (bytes) => {
        expect(written(bytes)).toEqual(expected(bytes));
      }),
      { numRuns: 5000 },
    );
  });

  it("takes the Event Store's shape itself, leaving to entryLine the metadata keys a JavaScript object reorders", () => {
    fc.assert(
      fc.property(serverShapedEntry, (bytes) => {
        expect(written(bytes)).toEqual(expected(bytes));
      }),
      { numRuns: 5000 },
    );
  });

  it("keeps lines apart across takes, takes back the last one, and grows past its first buffer", () => {
    fc.assert(
      fc.property(fc.array(anyLogEntry, { maxLength: 20 }), fc.boolean(), (entries, drop) => {
        const writer = new NdjsonWriter();
        for (const entry of entries) writer.writeEntry(toBinary(AppLogEntrySchema, entry));
        if (drop && entries.length > 0) writer.dropLast();
        const kept = drop ? entries.slice(0, -1) : entries;
        const text = kept.map((e) => `${toJsonString(AppLogEntrySchema, e)}\n`).join("");
        expect(writer.take().toString("utf8")).toBe(text);
        expect(writer.take().length).toBe(0);
      }),
    );
    const big = create(AppLogEntrySchema, { id: 7n, event: { payload: JSON.stringify("\u0001".repeat(400_000)) } });
    const writer = new NdjsonWriter();
    const earlier = writer.writeEntry(toBinary(AppLogEntrySchema, create(AppLogEntrySchema, { id: 6n })));
    expect([earlier, writer.writeEntry(toBinary(AppLogEntrySchema, big))]).toEqual([6n, 7n]);
    expect(writer.take().toString("utf8")).toBe(`{"id":"6"}\n${toJsonString(AppLogEntrySchema, big)}\n`);
  });
});

describe("timestampJson", () => {
  it("writes what toJsonString writes, for times in any order, many within one second or one day", () => {
    const nearby = fc
      .tuple(
        jsonTimestamp,
        fc.array(fc.tuple(fc.integer({ min: -2, max: 90_000 }), fc.integer({ min: 0, max: 999_999_999 })), {
          minLength: 1,
          maxLength: 5,
        }),
      )
      .map(([t, times]) =>
        times
          .map(([later, nanos]) => ({ seconds: t.seconds + BigInt(later % 3 === 0 ? 0 : later), nanos }))
          // Within the range JSON can carry (0001-01-01 to 9999-12-31): `later` may step either way past a bound.
          .filter((time) => time.seconds >= -62_135_596_800n && time.seconds <= 253_402_300_799n),
      );
    fc.assert(
      fc.property(fc.array(nearby, { maxLength: 4 }), (groups) => {
        for (const time of groups.flat()) {
          const timestamp = create(TimestampSchema, time);
          expect(`"${timestampJson(timestamp)}"`).toBe(toJsonString(TimestampSchema, timestamp));
        }
      }),
    );
  });
});
