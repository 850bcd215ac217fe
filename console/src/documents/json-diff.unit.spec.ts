import { describe, expect, it } from "vitest";
import { documentChanges } from "./json-diff.js";

describe("documentChanges", () => {
  it("lists each added, removed and changed property with its path and values as JSON", () => {
    const before = { name: "Ada", age: 36, city: "London" };
    const after = { name: "Ada Lovelace", age: 36, email: "ada@example.org" };
    expect(documentChanges(before, after)).toEqual([
      { kind: "changed", path: "/name", before: '"Ada"', after: '"Ada Lovelace"' },
      { kind: "removed", path: "/city", before: '"London"' },
      { kind: "added", path: "/email", after: '"ada@example.org"' },
    ]);
  });

  it("reaches into nested objects and arrays, escaping the path as a JSON Pointer", () => {
    const before = { address: { zip: "1000", "a/b": 1 }, tags: ["x"] };
    const after = { address: { zip: "2000", "a/b": 2 }, tags: ["x", "y"] };
    expect(documentChanges(before, after)).toEqual([
      { kind: "changed", path: "/address/zip", before: '"1000"', after: '"2000"' },
      { kind: "changed", path: "/address/a~1b", before: "1", after: "2" },
      { kind: "added", path: "/tags/1", after: '"y"' },
    ]);
  });

  it("shows a value that changes type as one change of the whole value, null included", () => {
    expect(documentChanges({ a: { b: 1 }, n: null }, { a: "flat", n: 0 })).toEqual([
      { kind: "changed", path: "/a", before: '{"b":1}', after: '"flat"' },
      { kind: "changed", path: "/n", before: "null", after: "0" },
    ]);
  });

  it("finds nothing between equal documents, whatever their key order", () => {
    expect(documentChanges({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 })).toEqual([]);
  });
});
