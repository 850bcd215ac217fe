import { create, fromBinary, toBinary, type UnknownField } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { TimestampSchema } from "@bufbuild/protobuf/wkt";
import { AppLogEntrySchema, EventSchema, OriginatorSchema } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import { type LogsPollResponse, LogsPollResponseSchema } from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
import { testSize } from "@eskit/test-kit/test-sizes.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { leanLogsPollSchema, logsPollResponseOfLean } from "./lean-logs-poll.js";
import { decodeAppLogEntry, decodeLogsPollResponse } from "./logs-poll-decoder.js";

// The hand decoder against protobuf-es's reflective fromBinary: on messages protobuf-es writes, on hand-made wire
// bytes protobuf-es never writes (repeated messages that merge, repeated map keys, map entries missing a key or a
// value, unknown fields everywhere, groups), and on all of them corrupted.

const uint64 = fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.constant(2n ** 64n - 1n));
const int64 = fc.oneof(fc.constant(0n), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }));
const int32 = fc.oneof(fc.constant(0), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }));
const text = fc.oneof(
  fc.constant(""),
  fc.string(),
  fc.string({ unit: "grapheme" }),
  fc.string({ unit: "binary", maxLength: 60 }),
  fc.constant("\uFEFFbom"),
  fc.json(),
);
const key = fc.oneof(text, fc.nat().map(String), fc.constantFrom("__proto__", "constructor", "toString"));

/** Unknown fields as protobuf-es keeps them (`data` without the tag), numbered from `from` up. */
function unknownFields(from: number): fc.Arbitrary<UnknownField[] | undefined> {
  const no = fc.integer({ min: from, max: 2 ** 29 - 1 });
  const field = fc.oneof(
    fc.record({ no, v: uint64 }).map(({ no, v }) => ({
      no,
      wireType: WireType.Varint,
      data: new BinaryWriter().uint64(v).finish(),
    })),
    fc.record({ no, b: fc.uint8Array({ maxLength: 20 }) }).map(({ no, b }) => ({
      no,
      wireType: WireType.LengthDelimited,
      data: new BinaryWriter().bytes(b).finish(),
    })),
    fc.record({ no, v: fc.integer() }).map(({ no, v }) => ({
      no,
      wireType: WireType.Bit32,
      data: new BinaryWriter().sfixed32(v).finish(),
    })),
    fc.record({ no, v: int64 }).map(({ no, v }) => ({
      no,
      wireType: WireType.Bit64,
      data: new BinaryWriter().sfixed64(v).finish(),
    })),
    // A group holding one varint field, closed by its end tag.
    fc.record({ no, v: uint64 }).map(({ no, v }) => ({
      no,
      wireType: WireType.StartGroup,
      data: new BinaryWriter().tag(1, WireType.Varint).uint64(v).tag(no, WireType.EndGroup).finish(),
    })),
  );
  return fc.option(fc.array(field, { minLength: 1, maxLength: 3 }), { nil: undefined, freq: 3 });
}

const withUnknown = <T extends object>(message: T, unknown: UnknownField[] | undefined): T =>
  unknown === undefined ? message : Object.assign(message, { $unknown: unknown });

const originator = fc
  .record({ id: text, version: uint64, u: unknownFields(3) })
  .map(({ id, version, u }) => withUnknown(create(OriginatorSchema, { id, version }), u));
const timestamp = fc
  .record({ seconds: int64, nanos: int32, u: unknownFields(3) })
  .map(({ seconds, nanos, u }) => withUnknown(create(TimestampSchema, { seconds, nanos }), u));
const event = fc
  .record({
    originator: fc.option(originator, { nil: undefined }),
    eventType: text,
    payload: text,
    occurredOn: fc.option(timestamp, { nil: undefined }),
    eventId: fc.oneof(fc.uuid(), text),
    metadata: fc.dictionary(key, text, { maxKeys: 4 }),
    u: unknownFields(7),
  })
  .map(({ u, ...e }) => withUnknown(create(EventSchema, e), u));
const entry = fc
  .record({ id: uint64, event: fc.option(event, { nil: undefined }), u: unknownFields(3) })
  .map(({ id, event, u }) => withUnknown(create(AppLogEntrySchema, { id, event }), u));
const response = fc
  .record({ entries: fc.array(entry, { maxLength: 4 }), u: unknownFields(2) })
  .map(({ entries, u }) => withUnknown(create(LogsPollResponseSchema, { entries }), u));

/** A LogsPollResponse as protobuf-es writes it. */
const written = response.map((r) => toBinary(LogsPollResponseSchema, r));

/**
 * Wire bytes protobuf-es never writes but must read: an entry or event field repeated (the second merges into the
 * first), a metadata key repeated (the last wins), map entries missing their key or value or carrying unknown
 * fields, fields out of order, strings that are not UTF-8, zero values written out.
 */
const ld = (no: number, body: Uint8Array) => new BinaryWriter().tag(no, WireType.LengthDelimited).bytes(body).finish();
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
const rawString = fc.oneof(
  text.map((s) => new TextEncoder().encode(s)),
  fc.uint8Array({ maxLength: 12 }), // often not UTF-8
);
const mapEntry = fc
  .record({
    key: fc.option(rawString, { nil: undefined }),
    value: fc.option(rawString, { nil: undefined }),
    extra: fc.option(fc.uint8Array({ maxLength: 4 }), { nil: undefined }),
    valueFirst: fc.boolean(),
  })
  .map(({ key, value, extra, valueFirst }) => {
    const k = key === undefined ? new Uint8Array() : ld(1, key);
    const v = value === undefined ? new Uint8Array() : ld(2, value);
    const x = extra === undefined ? new Uint8Array() : ld(3, extra);
    return ld(6, valueFirst ? concat(v, x, k) : concat(k, x, v));
  });
const eventBody = fc
  .array(
    fc.oneof(
      event.map((e) => toBinary(EventSchema, e)),
      mapEntry,
      fc
        .constantFrom("same-key", "proto")
        .map((k) =>
          ld(
            6,
            concat(ld(1, new TextEncoder().encode(k === "proto" ? "__proto__" : k)), ld(2, new Uint8Array([0x61]))),
          ),
        ),
      rawString.map((s) => ld(2, s)),
      rawString.map((s) => ld(3, s)),
      originator.map((o) => ld(1, toBinary(OriginatorSchema, o))),
      timestamp.map((t) => ld(4, toBinary(TimestampSchema, t))),
      // A zero value written out, which protobuf-es never writes.
      fc.constant(ld(1, new BinaryWriter().tag(2, WireType.Varint).uint64(0).finish())),
    ),
    { maxLength: 4 },
  )
  .map((parts) => concat(...parts));
const entryBody = fc
  .array(
    fc.oneof(
      entry.map((e) => toBinary(AppLogEntrySchema, e)),
      eventBody.map((b) => ld(2, b)),
      uint64.map((id) => new BinaryWriter().tag(1, WireType.Varint).uint64(id).finish()),
    ),
    { maxLength: 3 },
  )
  .map((parts) => concat(...parts));
const handMade = fc
  .array(
    fc.oneof(
      entryBody.map((b) => ld(1, b)),
      written,
    ),
    { maxLength: 4 },
  )
  .map((parts) => concat(...parts));

/** Corrupted bytes: cut short, a byte changed, bytes inserted. */
const corrupted = fc.oneof(written, handMade).chain((bytes) =>
  fc.oneof(
    fc.nat(bytes.length).map((n) => bytes.subarray(0, n)),
    fc
      .record({ at: fc.nat(Math.max(0, bytes.length - 1)), byte: fc.integer({ min: 0, max: 255 }) })
      .map(({ at, byte }) => {
        const out = bytes.slice();
        if (out.length > 0) out[at] = byte;
        return out;
      }),
    fc
      .record({ at: fc.nat(bytes.length), insert: fc.uint8Array({ minLength: 1, maxLength: 6 }) })
      .map(({ at, insert }) => concat(bytes.subarray(0, at), insert, bytes.subarray(at))),
  ),
);

type Outcome = { ok: true; value: LogsPollResponse } | { ok: false; error: unknown };
const outcome = (decode: () => LogsPollResponse): Outcome => {
  try {
    return { ok: true, value: decode() };
  } catch (error) {
    return { ok: false, error };
  }
};
const reference = (bytes: Uint8Array) => outcome(() => fromBinary(LogsPollResponseSchema, bytes));

/** Equal messages: the same objects and the same bytes again (which also holds map and unknown field order). */
function expectSame(got: LogsPollResponse, want: LogsPollResponse): void {
  expect(got).toStrictEqual(want);
  expect(Buffer.from(toBinary(LogsPollResponseSchema, got)).toString("hex")).toBe(
    Buffer.from(toBinary(LogsPollResponseSchema, want)).toString("hex"),
  );
  got.entries.forEach((e, i) => {
    const ref = want.entries[i]!;
    if (e.event !== undefined) expect(Object.keys(e.event.metadata)).toEqual(Object.keys(ref.event!.metadata));
  });
}

describe("decodeLogsPollResponse", () => {
  it("decodes what protobuf-es writes exactly as protobuf-es does", () => {
    fc.assert(
      fc.property(written, (bytes) => {
        const want = reference(bytes);
        expect(want.ok).toBe(true);
        expectSame(decodeLogsPollResponse(bytes), (want as { value: LogsPollResponse }).value);
      }),
      { numRuns: testSize(1000) },
    );
  });

  it("decodes hand-made wire bytes (merges, repeated keys, partial map entries, unknown fields) as protobuf-es", () => {
    fc.assert(
      fc.property(handMade, (bytes) => {
        const want = reference(bytes);
        const got = outcome(() => decodeLogsPollResponse(bytes));
        expect(got.ok).toBe(want.ok);
        if (got.ok && want.ok) expectSame(got.value, want.value);
      }),
      { numRuns: testSize(1000) },
    );
  });

  it("fails where protobuf-es fails, with its error, and otherwise decodes corrupted bytes as it does", () => {
    fc.assert(
      fc.property(corrupted, (bytes) => {
        const want = reference(bytes);
        const got = outcome(() => decodeLogsPollResponse(bytes));
        expect(got.ok).toBe(want.ok);
        if (got.ok && want.ok) expectSame(got.value, want.value);
        if (!got.ok && !want.ok) expect(String(got.error)).toBe(String(want.error));
      }),
      { numRuns: testSize(2000) },
    );
  });

  it("keeps the last of a repeated metadata key, and __proto__ as an own key", () => {
    const pair = (k: string, v: string) =>
      ld(6, concat(ld(1, new TextEncoder().encode(k)), ld(2, new TextEncoder().encode(v))));
    const bytes = ld(1, ld(2, concat(pair("a", "1"), pair("__proto__", "x"), pair("b", "2"), pair("a", "3"))));
    const got = decodeLogsPollResponse(bytes);
    expect(Object.entries(got.entries[0]!.event!.metadata)).toEqual([
      ["a", "3"],
      ["__proto__", "x"],
      ["b", "2"],
    ]);
    expect(Object.getPrototypeOf(got.entries[0]!.event!.metadata)).toBe(Object.prototype);
    expectSame(got, fromBinary(LogsPollResponseSchema, bytes));
  });

  it("bounds unknown groups nested in any of its messages as deep as protobuf-es does", () => {
    const groups = (depth: number) => {
      const w = new BinaryWriter();
      for (let i = 0; i < depth; i++) w.tag(9, WireType.StartGroup);
      for (let i = 0; i < depth; i++) w.tag(9, WireType.EndGroup);
      return w.finish();
    };
    for (let depth = 93; depth <= 101; depth++) {
      const g = groups(depth);
      const places = [
        g,
        ld(1, g),
        ld(1, ld(2, g)),
        ld(1, ld(2, ld(1, g))),
        ld(1, ld(2, ld(4, g))),
        ld(1, ld(2, ld(6, g))),
      ];
      for (const bytes of places) {
        const want = reference(bytes);
        const got = outcome(() => decodeLogsPollResponse(bytes));
        expect(got.ok).toBe(want.ok);
        if (got.ok && want.ok) expectSame(got.value, want.value);
      }
    }
  });

  it("decodes the extremes: the largest ids and versions, negative seconds and nanos, empty messages", () => {
    const r = create(LogsPollResponseSchema, {
      entries: [
        {
          id: 2n ** 64n - 1n,
          event: { originator: { version: 2n ** 64n - 1n }, occurredOn: { seconds: -1n, nanos: -1 } },
        },
        { id: 0n, event: {} },
        {},
      ],
    });
    const bytes = toBinary(LogsPollResponseSchema, r);
    expectSame(decodeLogsPollResponse(bytes), fromBinary(LogsPollResponseSchema, bytes));
  });
});

describe("the lean LogsPoll path (lean schema, then each entry by hand)", () => {
  /** What the lean schema's fromBinary gives, as the client's transport decodes it. */
  const leanOf = (bytes: Uint8Array) =>
    fromBinary(leanLogsPollSchema, bytes) as unknown as Parameters<typeof logsPollResponseOfLean>[0];

  it("gives what protobuf-es gives, or fails where the message is malformed", () => {
    fc.assert(
      fc.property(fc.oneof(written, handMade, corrupted), (bytes) => {
        const want = reference(bytes);
        const got = outcome(() => logsPollResponseOfLean(leanOf(bytes)));
        if (!want.ok) expect(got.ok).toBe(false);
        if (got.ok) expectSame(got.value, (want as { value: LogsPollResponse }).value);
      }),
      { numRuns: testSize(1000) },
    );
  });

  it("decodes one entry as protobuf-es decodes an AppLogEntry", () => {
    fc.assert(
      fc.property(entry, (e) => {
        const bytes = toBinary(AppLogEntrySchema, e);
        expect(decodeAppLogEntry(bytes)).toStrictEqual(fromBinary(AppLogEntrySchema, bytes));
      }),
    );
  });
});
