import { describe, expect, it } from "vitest";
import { applyChange, type EncodedChange, encodeChange } from "./changes.js";
import { CorruptHistoryError } from "./errors.js";
import { type JsonObject, parseDocument, serializeDocument } from "./json-document.js";
import { jsonEqual } from "./json-equal.js";

// Documents reach the store as text, so exotic keys like __proto__ are own data keys, as JSON.parse makes them.
const doc = (text: string): JsonObject => parseDocument(text, "document");

/** Encodes previous → next, replays it, and checks the replay is exact and `previous` untouched. */
function roundTrip(previous: JsonObject, next: JsonObject): EncodedChange {
  const before = serializeDocument(previous);
  const change = encodeChange(previous, next);
  expect(change).toBeDefined();
  const replayed = applyChange(previous, change!);
  expect(jsonEqual(replayed, next)).toBe(true);
  expect(serializeDocument(replayed)).toBe(serializeDocument(next));
  expect(serializeDocument(previous)).toBe(before);
  return change!;
}

describe("encodeChange and applyChange", () => {
  it.each<[string, string, string]>([
    ["an explicit null added at the top", '{"a":1}', '{"a":1,"b":null}'],
    ["a value replaced by null", '{"a":1,"b":2}', '{"a":null,"b":2}'],
    ["a nested explicit null", '{"o":{"x":1},"p":2}', '{"o":{"x":1,"y":null},"p":2}'],
    ["a new object holding a null", '{"a":1}', '{"a":1,"o":{"y":null}}'],
    ["an array holding nulls", '{"a":[1],"b":"long enough"}', '{"a":[1,null,{"z":null}],"b":"long enough"}'],
    ["keys removed", '{"a":1,"b":2,"c":{"d":3}}', '{"a":1}'],
    ["a nested object turned into a scalar", '{"o":{"x":1},"k":"keep"}', '{"o":5,"k":"keep"}'],
    ["a scalar turned into a nested object", '{"o":5,"k":"keep"}', '{"o":{"x":{"y":1}},"k":"keep"}'],
    ["an object turned into an array", '{"o":{"0":1}}', '{"o":[1]}'],
    ["an own __proto__ key added", '{"a":1}', '{"a":1,"__proto__":{"x":1}}'],
    ["an own __proto__ key changed", '{"__proto__":{"x":1},"a":1}', '{"__proto__":{"x":2},"a":1}'],
    ["an own __proto__ key removed", '{"__proto__":{"x":1},"a":1}', '{"a":1}'],
    ["a nested own __proto__ key", '{"o":{"a":1}}', '{"o":{"a":1,"__proto__":[null]}}'],
    ["a constructor key added and changed", '{"constructor":1}', '{"constructor":{"name":"x"},"prototype":2}'],
    ["a key removed beside an own hasOwnProperty", '{"hasOwnProperty":1,"a":1}', '{"hasOwnProperty":1}'],
    ["a toString key set to an object", '{"a":1}', '{"a":1,"toString":{"b":2}}'],
    ["unicode keys", '{"é":1,"🙂":{"日本":2}}', '{"é":1,"🙂":{"日本":3,"👩‍👩‍👧":"ü"},"\\ud800":4}'],
    ["an empty object added", '{"a":1}', '{"a":1,"e":{}}'],
    ["an object emptied", '{"e":{"x":1},"a":1}', '{"e":{},"a":1}'],
    ["everything removed", '{"a":1,"b":[2]}', "{}"],
    ["large and tiny numbers", '{"n":1}', '{"n":1e308,"m":-1e-300,"s":9007199254740991,"z":-5e-324}'],
  ])("replays %s exactly", (_, before, after) => {
    roundTrip(doc(before), doc(after));
  });

  it("stores explicit nulls as the whole document, since a patch's null means delete", () => {
    expect(roundTrip(doc('{"a":1,"b":"some text"}'), doc('{"a":null,"b":"some text"}'))).toEqual({
      payload: '{"a":null,"b":"some text"}',
      encoding: "document",
    });
  });

  it("stores an own __proto__ key as the whole document, since json-merge-patch drops it", () => {
    const next = doc('{"a":"some text","__proto__":{"x":1}}');
    expect(roundTrip(doc('{"a":"some text"}'), next)).toEqual({
      payload: serializeDocument(next),
      encoding: "document",
    });
  });

  it("stores a one-field change to a big document as a short merge patch", () => {
    const previous: JsonObject = {};
    for (let i = 0; i < 50; i++) previous[`field${i}`] = { value: i, name: `name ${i}`, tags: ["a", null] };
    const next = { ...previous, field7: { value: 7000, name: "name 7", tags: ["a", null] } };
    const change = roundTrip(previous, next);
    expect(change).toEqual({ payload: '{"field7":{"value":7000}}', encoding: "merge-patch" });
    expect(change.payload.length * 50).toBeLessThan(serializeDocument(next).length);
  });

  it("stores nested removals as null in a merge patch", () => {
    const previous = doc('{"o":{"a":1,"b":2},"text":"long enough to patch"}');
    const change = roundTrip(previous, doc('{"o":{"a":1},"text":"long enough to patch"}'));
    expect(change).toEqual({ payload: '{"o":{"b":null}}', encoding: "merge-patch" });
  });

  it("stores the document when the patch would not be shorter", () => {
    expect(roundTrip(doc('{"a":1}'), doc('{"b":2}'))).toEqual({ payload: '{"b":2}', encoding: "document" });
  });

  it.each<[string, JsonObject, JsonObject]>([
    ["equal documents", { a: [1, { b: null }] }, { a: [1, { b: null }] }],
    ["keys in another order", { a: 1, b: 2 }, { b: 2, a: 1 }],
    ["0 and -0", { n: 0 }, { n: -0 }],
    ["empty documents", {}, {}],
  ])("finds no change between %s", (_, previous, next) => {
    expect(encodeChange(previous, next)).toBeUndefined();
  });
});

describe("applyChange", () => {
  it("applies a merge patch by RFC 7396", () => {
    const change: EncodedChange = { payload: '{"a":{"b":null,"d":3},"e":[null]}', encoding: "merge-patch" };
    expect(applyChange({ a: { b: 1, c: 2 }, f: 1 }, change)).toEqual({ a: { c: 2, d: 3 }, f: 1, e: [null] });
  });

  it("returns a stored document as it is, whatever came before", () => {
    expect(applyChange({ a: 1 }, { payload: '{"b":null}', encoding: "document" })).toEqual({ b: null });
  });

  it.each<[string, EncodedChange, RegExp]>([
    ["a document that is not JSON", { payload: "{nope", encoding: "document" }, /document change cannot be applied/u],
    ["a patch that is not JSON", { payload: "", encoding: "merge-patch" }, /merge-patch change cannot be applied/u],
    ["a document that is an array", { payload: "[1]", encoding: "document" }, /leads to an array, not a JSON object/u],
    ["a patch that is null", { payload: "null", encoding: "merge-patch" }, /leads to null, not a JSON object/u],
    ["a patch that is a string", { payload: '"x"', encoding: "merge-patch" }, /leads to a string, not a JSON object/u],
    ["an unknown encoding", { payload: "{}", encoding: "zstd" as "document" }, /unknown encoding "zstd"/u],
  ])("refuses %s as corrupt history", (_, change, message) => {
    expect(() => applyChange({ a: 1 }, change)).toThrow(CorruptHistoryError);
    expect(() => applyChange({ a: 1 }, change)).toThrow(message);
  });

  it("reports json-merge-patch's own failure as corrupt history", () => {
    // The library calls target.hasOwnProperty(key), which an own hasOwnProperty key shadows.
    const change: EncodedChange = { payload: '{"a":null}', encoding: "merge-patch" };
    expect(() => applyChange({ hasOwnProperty: 1, a: 1 }, change)).toThrow(CorruptHistoryError);
  });
});
