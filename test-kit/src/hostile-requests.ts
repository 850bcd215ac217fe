import { create, type DescField, type DescMessage, ScalarType, toBinary, toJson } from "@bufbuild/protobuf";
import fc from "fast-check";
import { envelope, type RawProtocol } from "./raw-rpc.js";

/**
 * fast-check arbitraries of requests a hostile or broken client may send to any RPC, built from the RPC's request
 * descriptor so a new RPC or field is covered without a line of its own: messages whose fields hold out-of-range
 * numbers, NUL, lone surrogates, deep or huge JSON text; wrong JSON types; corrupted binary (flipped, truncated,
 * wrong wire types, invalid UTF-8); and bad frames (flags, lengths).
 */

/** JSON text nested `depth` levels deep, as objects or arrays. */
export function deepJson(depth: number, kind: "object" | "array" = "object"): string {
  return kind === "object" ? '{"a":'.repeat(depth) + "1" + "}".repeat(depth) : "[".repeat(depth) + "]".repeat(depth);
}

const hostileConstants = [
  "",
  "a",
  "User.Created",
  "acme.User",
  "*",
  "*.*",
  "User.*",
  ".",
  "\u0000",
  "a\u0000b",
  "\ud800",
  "a\udc00b",
  "\u0000\ud800",
  "x".repeat(300),
  "{}",
  '{"a":1}',
  "[]",
  "null",
  "not json",
  '{"a":',
  deepJson(10_000),
  deepJson(10_000, "array"),
  `{"x":${deepJson(10_000, "array")}}`,
  "0",
  "-1",
  " 1",
  "0x10",
  "1e3",
  "9223372036854775807",
  "9223372036854775808",
  "18446744073709551615",
  "18446744073709551616",
  "00000000-0000-0000-0000-000000000000",
  "eskit.crudstore.x",
  "__proto__",
  "😀",
  "\uffff",
];

/** Strings that break assumptions: NUL, lone surrogates, deep JSON, numbers out of range, reserved names. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...hostileConstants) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 12 }) },
  // Any UTF-16 code unit, so lone surrogates too.
  {
    weight: 2,
    arbitrary: fc
      .array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 8 })
      .map((units) => String.fromCharCode(...units)),
  },
  { weight: 1, arbitrary: fc.constant("y".repeat(5 * 1024 * 1024)) },
);

const uint64 = fc.oneof(
  fc.constantFrom(0n, 1n, 2n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
);
const int64 = fc.oneof(
  fc.constantFrom(0n, 1n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 1_000_000_000_000n),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
);
const uint32 = fc.oneof(
  fc.constantFrom(0, 1, 1000, 1001, 2 ** 31, 2 ** 32 - 1),
  fc.integer({ min: 0, max: 2 ** 32 - 1 }),
);
const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });

function scalar(type: ScalarType): fc.Arbitrary<unknown> {
  switch (type) {
    case ScalarType.STRING:
      return hostileString;
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return uint64;
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return int64;
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return uint32;
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return int32;
    case ScalarType.BOOL:
      return fc.boolean();
    case ScalarType.BYTES:
      return fc.uint8Array({ maxLength: 16 });
    default:
      return fc.double();
  }
}

function fieldValue(field: DescField, depth: number): fc.Arbitrary<unknown> {
  switch (field.fieldKind) {
    case "scalar":
      return scalar(field.scalar);
    case "enum":
      return fc.integer({ min: -1, max: 5 });
    case "message":
      return messageInit(field.message, depth + 1);
    case "list": {
      const item =
        field.listKind === "scalar"
          ? scalar(field.scalar)
          : field.listKind === "enum"
            ? fc.integer({ min: -1, max: 5 })
            : messageInit(field.message, depth + 1);
      return fc.array(item, { maxLength: 3 });
    }
    case "map": {
      const value =
        field.mapKind === "scalar"
          ? scalar(field.scalar)
          : field.mapKind === "enum"
            ? fc.integer({ min: -1, max: 5 })
            : messageInit(field.message, depth + 1);
      return fc.dictionary(hostileString, value, { maxKeys: 3 });
    }
  }
}

/** The fields of a message of type `desc` (for `create`), each present or not, every value hostile. */
export function messageInit(desc: DescMessage, depth = 0): fc.Arbitrary<Record<string, unknown>> {
  if (depth > 4) return fc.constant({});
  const shape: Record<string, fc.Arbitrary<unknown>> = {};
  for (const field of desc.fields) shape[field.localName] = fieldValue(field, depth);
  return fc.record(shape, { requiredKeys: [] });
}

/** JSON values of the wrong type for most fields, or out of range for the right one. */
const wrongJson = fc.constantFrom<unknown>(
  "abc",
  -1,
  1.5,
  true,
  null,
  {},
  [],
  [1, "a"],
  { a: { b: 1 } },
  "18446744073709551616",
  "-9223372036854775809",
  "1e400",
  1e400,
  "NaN",
  4294967296,
  "\u0000",
);

/** One request body as a protocol frames it, with what it was made from (for a failure report). */
export interface HostileBody {
  kind: string;
  body: Uint8Array;
  /** Extra headers (e.g. a compression). */
  headers?: Record<string, string>;
}

/**
 * Hostile request bodies for an RPC whose request type is `input`, framed for `protocol` (enveloped for gRPC and
 * gRPC-Web, and for Connect when `stream`).
 */
export function hostileBody(input: DescMessage, protocol: RawProtocol, stream: boolean): fc.Arbitrary<HostileBody> {
  // A failure report names the case, not its bytes (some are megabytes).
  return bodies(input, protocol, stream).map((hostile) =>
    Object.assign(hostile, { [fc.toStringMethod]: () => `${hostile.kind} (${hostile.body.length} bytes)` }),
  );
}

function bodies(input: DescMessage, protocol: RawProtocol, stream: boolean): fc.Arbitrary<HostileBody> {
  const messages = messageInit(input).map((init) => create(input, init));
  const enveloped = protocol === "grpc" || protocol === "grpc-web" || stream;
  const frame = (data: Uint8Array, flags = 0): Uint8Array => (enveloped ? envelope(flags, data) : data);
  if (protocol === "connect-json") {
    const text = (s: string) => new TextEncoder().encode(s);
    return fc.oneof(
      messages.map((m) => ({ kind: "json message", body: frame(text(safeJson(input, m))) })),
      fc
        .tuple(messages, fc.constantFrom(...input.fields.map((f) => f.jsonName), "unknownField"), wrongJson)
        .map(([m, key, value]) => {
          const json = JSON.parse(safeJson(input, m)) as Record<string, unknown>;
          json[key] = value;
          return { kind: `json ${key}=${JSON.stringify(value)}`, body: frame(text(JSON.stringify(json))) };
        }),
      fc
        .constantFrom("", "{", "[]", "null", '"x"', "1", deepJson(10_000), '{"a":"\\ud800"}', "\u0000")
        .map((raw) => ({ kind: `json text ${raw.slice(0, 20)}`, body: frame(text(raw)) })),
    );
  }
  const binary = messages.map((m) => toBinary(input, m));
  const stringFields = input.fields.filter((f) => f.fieldKind === "scalar" && f.scalar === ScalarType.STRING);
  return fc.oneof(
    binary.map((bytes) => ({ kind: "binary message", body: frame(bytes) })),
    fc.tuple(binary, fc.nat(), fc.integer({ min: 1, max: 255 })).map(([bytes, at, xor]) => {
      const copy = Uint8Array.from(bytes);
      if (copy.length > 0) copy[at % copy.length]! ^= xor;
      return { kind: "flipped byte", body: frame(copy) };
    }),
    fc.tuple(binary, fc.nat()).map(([bytes, at]) => ({
      kind: "truncated",
      body: frame(bytes.subarray(0, bytes.length === 0 ? 0 : at % bytes.length)),
    })),
    fc.uint8Array({ minLength: 1, maxLength: 64 }).map((bytes) => ({ kind: "random bytes", body: frame(bytes) })),
    fc.tuple(fc.integer({ min: 1, max: 20 }), fc.constantFrom(1, 2, 3, 4, 5, 6, 7)).map(([fieldNo, wireType]) => ({
      kind: `field ${fieldNo} wire type ${wireType}`,
      body: frame(Uint8Array.from([(fieldNo << 3) | wireType, 0x01, 0x02, 0x03])),
    })),
    fc.constantFrom(...stringFields.map((f) => f.number), 1).map((fieldNo) => ({
      kind: `invalid UTF-8 in field ${fieldNo}`,
      body: frame(Uint8Array.from([(fieldNo << 3) | 2, 0x02, 0xc3, 0x28])),
    })),
    fc.constant({ kind: "JSON as binary", body: frame(new TextEncoder().encode('{"entityType":"a"}')) }),
    ...(enveloped ? [badFrames(binary)] : []),
  );
}

/** Envelopes with flags or lengths a request may not have. */
function badFrames(binary: fc.Arbitrary<Uint8Array>): fc.Arbitrary<HostileBody> {
  return fc.oneof(
    fc
      .tuple(binary, fc.constantFrom(0x01, 0x02, 0x80, 0x81, 0xff, 0x40))
      .map(([bytes, flags]) => ({ kind: `flags 0x${flags.toString(16)}`, body: envelope(flags, bytes) })),
    fc.tuple(binary, fc.integer({ min: -3, max: 3 })).map(([bytes, delta]) => ({
      kind: `length off by ${delta}`,
      body: envelope(0, bytes, Math.max(0, bytes.length + delta)),
    })),
    fc
      .tuple(binary, fc.integer({ min: 1, max: 4 }))
      .map(([bytes, cut]) => ({ kind: `short header`, body: envelope(0, bytes).subarray(0, cut) })),
    fc.constant({ kind: "length 4 GiB", body: envelope(0, new Uint8Array(), 0xffffffff) }),
    binary.map((bytes) => ({
      kind: "two messages",
      body: Buffer.concat([envelope(0, bytes), envelope(0, bytes)]),
    })),
  );
}

/** Protobuf JSON of `message`, or `{}` when its values have no JSON form (e.g. NaN in a 64-bit field). */
function safeJson(desc: DescMessage, message: ReturnType<typeof create>): string {
  try {
    return JSON.stringify(toJson(desc, message));
  } catch {
    return "{}";
  }
}
