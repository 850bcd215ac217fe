/**
 * fast-check arbitraries of JSON documents and of edits to them, for the exact-replay property: documents with nested
 * objects and arrays, explicit nulls, empty objects, unicode and prototype-named keys, extreme numbers; edits that are
 * mostly small (one value set, removed or nulled somewhere deep) so merge patches are exercised, with now and then a
 * whole new document, an unchanged one or the same one with its keys reordered.
 */
import fc from "fast-check";
import { isObject, setOwn, type JsonObject } from "./documents.js";

const keys: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom("a", "b", "c", "name", "items", "nested") },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      "__proto__",
      "constructor",
      "toString",
      "",
      "ключ",
      "😀",
      "a.b",
      "a/b",
      "~1",
      "$ref",
      "null",
      "0",
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 4 }) },
);

const scalars: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(2 ** 53 + 2, -(2 ** 63), 1e308, -1e-308, 5e-324, 12345678901234567890, 0.1, 1e21),
  fc.string({ maxLength: 8 }),
  fc.string({ unit: "binary", maxLength: 8 }),
  fc.constantFrom("", "\u0000", "\ud800", "line\nbreak", 'quote"back\\slash', "🏳️‍🌈", "null", "{}"),
);

/** An object built from entries with own properties only (a `__proto__` entry stays a key); later entries win. */
function objectOf(entries: ReadonlyArray<readonly [string, unknown]>): JsonObject {
  const result: JsonObject = {};
  for (const [key, value] of entries) setOwn(result, key, value);
  return result;
}

const tree = fc.letrec<{ value: unknown; array: unknown[]; object: JsonObject }>((tie) => ({
  value: fc.oneof({ depthSize: "small", withCrossShrink: true }, scalars, tie("array"), tie("object")),
  array: fc.array(tie("value"), { maxLength: 4, depthIdentifier: "json" }),
  object: fc.array(fc.tuple(keys, tie("value")), { maxLength: 5, depthIdentifier: "json" }).map(objectOf),
}));

/** Any JSON value. */
export const jsonValue: fc.Arbitrary<unknown> = tree.value;

/** A JSON object, the only kind of document the Crud Store keeps. */
export const jsonDocument: fc.Arbitrary<JsonObject> = tree.object;

/** One change to a document; `path` picks where (indexes taken modulo the sizes met on the way). */
export type Edit =
  | { kind: "set" | "null" | "delete" | "emptyObject"; path: number[]; key: string; value: unknown }
  | { kind: "replace"; document: JsonObject }
  | { kind: "same" | "reorder" };

export const edit: fc.Arbitrary<Edit> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constantFrom("set", "set", "set", "null", "delete", "delete", "emptyObject"),
      path: fc.array(fc.nat(), { maxLength: 4 }),
      key: keys,
      value: jsonValue,
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("replace" as const), document: jsonDocument }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom("same" as const, "reorder" as const) }) },
);

/** A deep copy keeping own `__proto__` keys (JSON.parse defines properties, it does not assign them). */
export function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** The document after `change`; `document` itself is left alone. */
export function applyEdit(document: JsonObject, change: Edit): JsonObject {
  if ("path" in change) return applyLocalEdit(document, change);
  if (change.kind === "replace") return clone(change.document);
  return change.kind === "same" ? clone(document) : (reorder(clone(document)) as JsonObject);
}

function applyLocalEdit(document: JsonObject, change: Extract<Edit, { path: number[] }>): JsonObject {
  const result = clone(document);
  let target: unknown = result;
  // Walk down while the path goes on and there is a container to enter.
  for (const step of change.path) {
    const children = isObject(target) ? Object.keys(target) : Array.isArray(target) ? target.map((_, i) => i) : [];
    const inner = children
      .map((k) => (target as Record<string | number, unknown>)[k as never] as unknown)
      .filter((child) => typeof child === "object" && child !== null);
    if (inner.length === 0) break;
    target = inner[step % inner.length];
  }
  const value = change.kind === "null" ? null : change.kind === "emptyObject" ? {} : clone(change.value);
  if (Array.isArray(target)) {
    const index = change.path.at(-1) ?? 0;
    if (change.kind === "delete") {
      if (target.length > 0) target.splice(index % target.length, 1);
    } else if (target.length === 0 || index % 3 === 0) target.push(value);
    else target[index % target.length] = value;
  } else if (isObject(target)) {
    const existing = Object.keys(target);
    if (change.kind === "delete") {
      if (existing.length > 0) delete target[existing[(change.path.at(-1) ?? 0) % existing.length]!];
    } else {
      // Half the time change an existing key, so edits hit values that are already there.
      const key =
        existing.length > 0 && (change.path.at(-1) ?? 0) % 2 === 0
          ? existing[(change.path.at(-1) ?? 0) % existing.length]!
          : change.key;
      setOwn(target, key, value);
    }
  }
  return result;
}

/** The same JSON value with every object's keys in reverse order. */
function reorder(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reorder);
  if (!isObject(value)) return value;
  return objectOf(
    Object.keys(value)
      .reverse()
      .map((key) => [key, reorder(value[key])] as const),
  );
}

/** JSON text with every object's keys sorted: equal for equal JSON values, whatever their key order. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (!isObject(value)) return JSON.stringify(value);
  return `{${Object.keys(value)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonical(value[key])}`)
    .join(",")}}`;
}
