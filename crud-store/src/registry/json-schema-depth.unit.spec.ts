import { describe, expect, it } from "vitest";
import { ValidationError } from "../domain/errors.js";
import { jsonDepth } from "../domain/json-depth.js";
import { compileJsonSchema, maxSchemaDepth } from "./json-schema.js";

/** `{"a":{"a":...{}}}`, `depth` objects deep. */
const nested = (depth: number): string => '{"a":'.repeat(depth - 1) + "{}" + "}".repeat(depth - 1);

describe("JSON Schema depth", () => {
  it("refuses a schema nested deeper than maxSchemaDepth with ValidationError", () => {
    expect(() => compileJsonSchema(nested(10_000))).toThrow(
      new ValidationError(`the JSON Schema nests arrays and objects more than ${maxSchemaDepth} levels deep`),
    );
  });

  it("compiles a schema for a document of the deepest configurable depth", () => {
    let schema = '{"type":"object"}';
    for (let i = 0; i < 200; i++) schema = `{"type":"object","properties":{"a":${schema}}}`;
    expect(jsonDepth(schema)).toBeLessThanOrEqual(maxSchemaDepth);
    expect(compileJsonSchema(schema).validate(JSON.parse(nested(200)))).toEqual([]);
  });
});
