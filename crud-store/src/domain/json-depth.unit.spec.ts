import { describe, expect, it } from "vitest";
import { encodeChange, applyChange } from "./changes.js";
import { ValidationError } from "./errors.js";
import { jsonDepth } from "./json-depth.js";
import { defaultMaxDocumentDepth, parseDocument, serializeDocument } from "./json-document.js";
import { jsonEqual } from "./json-equal.js";

/** `{"a":{"a":...{}}}`, `depth` objects deep. */
const nested = (depth: number): string => '{"a":'.repeat(depth - 1) + "{}" + "}".repeat(depth - 1);

describe("jsonDepth", () => {
  it("counts arrays and objects, not brackets inside strings", () => {
    expect(jsonDepth("1")).toBe(0);
    expect(jsonDepth("{}")).toBe(1);
    expect(jsonDepth('{"a":[1,{"b":[]}]}')).toBe(4);
    expect(jsonDepth('{"a":"[[[{{{\\"]]]"}')).toBe(1);
    expect(jsonDepth(nested(10_000))).toBe(10_000);
  });

  it("stops counting past its limit", () => {
    expect(jsonDepth(nested(1_000_000), 5)).toBe(6);
  });
});

describe("document depth", () => {
  it("refuses a document nested 10,000 deep with ValidationError, not a stack overflow", () => {
    expect(() => parseDocument(nested(10_000), "payload")).toThrow(
      new ValidationError(
        `payload nests arrays and objects more than ${defaultMaxDocumentDepth} levels deep (ESKIT_MAX_DOCUMENT_DEPTH)`,
      ),
    );
    expect(() => parseDocument(`{"a":${"[".repeat(10_000)}${"]".repeat(10_000)}}`, "payload")).toThrow(ValidationError);
  });

  it("accepts a document exactly at the limit", () => {
    expect(() => parseDocument(nested(defaultMaxDocumentDepth), "payload")).not.toThrow();
    expect(() => parseDocument(nested(3), "payload", 2)).toThrow(ValidationError);
  });

  it("keeps every recursive step safe at the deepest configurable depth (200)", () => {
    const previous = parseDocument(nested(200), "payload", 200);
    const next = parseDocument(nested(200).replace("{}", '{"b":1}'), "payload", 200);
    expect(jsonEqual(previous, next)).toBe(false);
    const change = encodeChange(previous, next);
    expect(change).toBeDefined();
    expect(serializeDocument(applyChange(previous, change!))).toBe(serializeDocument(next));
  });
});
