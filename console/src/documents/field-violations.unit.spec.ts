import { describe, expect, it } from "vitest";
import { placeViolations, pointerOf, pointerSegments } from "./field-violations.js";

describe("JSON Pointers", () => {
  it("unescape ~1 and ~0 in each segment, the empty pointer being the document itself", () => {
    expect(pointerSegments("")).toEqual([]);
    expect(pointerSegments("/address/zip")).toEqual(["address", "zip"]);
    expect(pointerSegments("/a~1b/~01/0")).toEqual(["a/b", "~1", "0"]);
    expect(pointerSegments("/")).toEqual([""]);
  });

  it("are written back from segments exactly as they were read", () => {
    for (const pointer of ["", "/a~1b/~01/0", "/tags/3", "/"])
      expect(pointerOf(pointerSegments(pointer))).toBe(pointer);
    expect(pointerOf(["tags", 3])).toBe("/tags/3");
  });
});

describe("placeViolations", () => {
  it("puts each violation at the field its path starts with, saying where inside it when deeper", () => {
    const placed = placeViolations(
      [
        { path: "/age", message: "must be >= 0" },
        { path: "/address/zip", message: "must match pattern" },
        { path: "/age", message: "must be integer" },
        { path: "/a~1b", message: "must be string" },
      ],
      ["age", "address", "a/b", "name"],
    );
    expect(Object.fromEntries(placed.atFields)).toEqual({
      age: ["must be >= 0", "must be integer"],
      address: ["/zip: must match pattern"],
      "a/b": ["must be string"],
    });
    expect(placed.elsewhere).toEqual([]);
  });

  it("leaves violations of the document itself, or of properties without a field, to the error notice", () => {
    const root = { path: "", message: "must have required property 'name'" };
    const unknown = { path: "/colour", message: "must be string" };
    const placed = placeViolations([root, unknown, { path: "/age", message: "must be >= 0" }], ["age", "name"]);
    expect(placed.elsewhere).toEqual([root, unknown]);
    expect([...placed.atFields.keys()]).toEqual(["age"]);
  });
});
