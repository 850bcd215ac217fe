import { describe, expect, it } from "vitest";
import type { JsonValue } from "./json-document.js";
import { jsonEqual } from "./json-equal.js";

const parse = (text: string): JsonValue => JSON.parse(text) as JsonValue;

describe("jsonEqual", () => {
  it.each<[string, JsonValue, JsonValue]>([
    ["the same scalars", "a", "a"],
    ["null and null", null, null],
    ["objects with keys in another order", { a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 }],
    ["0 and -0", { n: 0 }, { n: -0 }],
    ["empty objects", {}, {}],
    ["empty arrays", [], []],
    ["own __proto__ keys with equal values", parse('{"__proto__":{"x":1}}'), parse('{"__proto__":{"x":1}}')],
    ["own hasOwnProperty keys", { hasOwnProperty: 1 }, { hasOwnProperty: 1 }],
  ])("holds for %s", (_, a, b) => {
    expect(jsonEqual(a, b)).toBe(true);
    expect(jsonEqual(b, a)).toBe(true);
  });

  it.each<[string, JsonValue, JsonValue]>([
    ["a number and its string", 1, "1"],
    ["null and an empty object", null, {}],
    ["an array and an object with index keys", [1], { "0": 1 }],
    ["an empty array and an empty object", [], {}],
    ["arrays of different lengths", [1, 2], [1, 2, 3]],
    ["arrays in another order", [1, 2], [2, 1]],
    ["a key holding null and a missing key", { a: null }, {}],
    ["the same number of keys but other names", { a: null, b: 1 }, { b: 1, c: null }],
    ["an own __proto__ key and none", parse('{"__proto__":{}}'), {}],
    ["own __proto__ keys with other values", parse('{"__proto__":1}'), parse('{"__proto__":2}')],
    ["an own constructor key and an inherited one", { constructor: 1 }, { other: 1 }],
    ["an own toString key and another", { toString: "x" }, { valueOf: "x" }],
    ["different nested values", { a: { b: [1, { c: true }] } }, { a: { b: [1, { c: false }] } }],
    ["large numbers that differ in the last bit", 9007199254740991, 9007199254740990],
  ])("fails for %s", (_, a, b) => {
    expect(jsonEqual(a, b)).toBe(false);
    expect(jsonEqual(b, a)).toBe(false);
  });
});
