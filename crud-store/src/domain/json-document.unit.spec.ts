import { describe, expect, it } from "vitest";
import { ValidationError } from "./errors.js";
import {
  cloneJson,
  describeJsonKind,
  isJsonObject,
  type JsonObject,
  parseDocument,
  serializeDocument,
} from "./json-document.js";

describe("parseDocument", () => {
  it("returns the object the text holds", () => {
    expect(parseDocument('{"name":"Ada","tags":[1,null],"nested":{}}', "document")).toEqual({
      name: "Ada",
      tags: [1, null],
      nested: {},
    });
  });

  it("keeps an own __proto__ key as data without touching the prototype", () => {
    const doc = parseDocument('{"__proto__":{"admin":true}}', "document");
    expect(Object.keys(doc)).toEqual(["__proto__"]);
    expect(Object.getPrototypeOf(doc)).toBe(Object.prototype);
    expect((doc as { admin?: unknown }).admin).toBeUndefined();
  });

  it("names the place of invalid JSON", () => {
    expect(() => parseDocument("{nope", "document")).toThrow(ValidationError);
    expect(() => parseDocument("{nope", "document")).toThrow(/^document is not valid JSON: /u);
    expect(() => parseDocument("", "the update")).toThrow(/^the update is not valid JSON: /u);
  });

  it.each([
    ["[1,2]", "an array"],
    ['"text"', "a string"],
    ["42", "a number"],
    ["true", "a boolean"],
    ["null", "null"],
  ])("refuses %s as not an object", (text, kind) => {
    expect(() => parseDocument(text, "document")).toThrow(
      new ValidationError(`document must be a JSON object, got ${kind}`),
    );
  });

  it("refuses a number a double cannot hold, naming its JSON Pointer", () => {
    expect(() => parseDocument('{"a":[1,-1e400]}', "document")).toThrow(
      new ValidationError("document has a number at /a/1 too large for a 64-bit float"),
    );
    expect(() => parseDocument('{"a/b":{"c~d":1e999}}', "document")).toThrow(/at \/a~1b\/c~0d /u);
  });

  it("accepts the largest and smallest doubles", () => {
    expect(parseDocument('{"big":1.7976931348623157e308,"tiny":-5e-324}', "d")).toEqual({
      big: Number.MAX_VALUE,
      tiny: -5e-324,
    });
  });
});

describe("serializeDocument", () => {
  it("writes the text JSON.parse reads back to an equal document, own __proto__ key included", () => {
    const doc = parseDocument('{"__proto__":{"x":1},"a":[null,{"b":"é"}]}', "document");
    expect(serializeDocument(doc)).toBe('{"__proto__":{"x":1},"a":[null,{"b":"é"}]}');
  });

  it("writes -0 as 0", () => {
    expect(serializeDocument({ n: -0 })).toBe('{"n":0}');
  });
});

describe("cloneJson", () => {
  it("copies deeply, so changing the copy leaves the original alone", () => {
    const original: JsonObject = { a: { b: [1, { c: 2 }] }, d: null };
    const copy = cloneJson(original);
    ((copy["a"] as JsonObject)["b"] as JsonObject[])[1]!["c"] = 3;
    expect(copy).toEqual({ a: { b: [1, { c: 3 }] }, d: null });
    expect(original).toEqual({ a: { b: [1, { c: 2 }] }, d: null });
  });

  it("keeps own __proto__ keys at every depth as data", () => {
    const copy = cloneJson(parseDocument('{"__proto__":1,"o":{"__proto__":{"x":[2]}}}', "document"));
    expect(serializeDocument(copy)).toBe('{"__proto__":1,"o":{"__proto__":{"x":[2]}}}');
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(copy["o"])).toBe(Object.prototype);
  });

  it("returns scalars as they are", () => {
    expect([cloneJson(null), cloneJson(1), cloneJson("s"), cloneJson(false)]).toEqual([null, 1, "s", false]);
  });
});

describe("isJsonObject and describeJsonKind", () => {
  it("tell objects from the other JSON values", () => {
    expect([{}, [], null, "x", 1, true].map(isJsonObject)).toEqual([true, false, false, false, false, false]);
    expect([{}, [], null, "x", 1, true, undefined].map(describeJsonKind)).toEqual([
      "an object",
      "an array",
      "null",
      "a string",
      "a number",
      "a boolean",
      "nothing",
    ]);
  });
});
