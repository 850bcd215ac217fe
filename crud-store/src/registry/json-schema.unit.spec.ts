import { describe, expect, it } from "vitest";
import { ValidationError } from "../domain/errors.js";
import { compileJsonSchema, formatViolations } from "./json-schema.js";

const person = {
  type: "object",
  required: ["email"],
  properties: {
    email: { type: "string", format: "email" },
    age: { type: "integer", minimum: 0 },
    name: { type: "string" },
  },
};
const compile = (schema: unknown) => compileJsonSchema(JSON.stringify(schema));

describe("compileJsonSchema", () => {
  it("lists every violation, not just the first", () => {
    const violations = compile(person).validate({ age: -1, name: 5 });
    expect(violations).toEqual([
      { path: "", message: "must have required property 'email'" },
      { path: "/age", message: "must be >= 0" },
      { path: "/name", message: "must be string" },
    ]);
    expect(formatViolations(violations)).toBe(
      "/: must have required property 'email'; /age: must be >= 0; /name: must be string",
    );
  });

  it("finds nothing wrong with a valid document", () => {
    expect(compile(person).validate({ email: "ada@example.com", age: 36 })).toEqual([]);
  });

  it("checks formats", () => {
    expect(compile(person).validate({ email: "not an email" })).toEqual([
      { path: "/email", message: 'must match format "email"' },
    ]);
  });

  it.each(["http://json-schema.org/draft-07/schema#", "http://json-schema.org/draft-07/schema"])(
    "reads draft-07 declared as %s",
    ($schema) => {
      expect(compile({ ...person, $schema }).validate({ email: "x@y.z", age: 1.5 })).toEqual([
        { path: "/age", message: "must be integer" },
      ]);
    },
  );

  it("reads 2019-09, with its unevaluatedProperties naming the extra property", () => {
    const schema = {
      $schema: "https://json-schema.org/draft/2019-09/schema",
      allOf: [{ properties: { a: { type: "number" } } }],
      unevaluatedProperties: false,
    };
    expect(compile(schema).validate({ a: 1, b: 2 })).toEqual([
      { path: "", message: "must NOT have unevaluated properties: 'b'" },
    ]);
  });

  it("reads 2020-12 prefixItems, which draft-07 would ignore", () => {
    const pair = { type: "array", prefixItems: [{ type: "number" }, { type: "string" }], items: false };
    const point = { type: "object", properties: { p: pair } };
    expect(
      compile({ $schema: "https://json-schema.org/draft/2020-12/schema#", ...point }).validate({ p: [1, 2, 3] }),
    ).toEqual([
      { path: "/p/1", message: "must be string" },
      { path: "/p", message: "must NOT have more than 2 items" },
    ]);
    expect(
      compile({ $schema: "https://json-schema.org/draft/2020-12/schema", ...point }).validate({ p: [1, "x"] }),
    ).toEqual([]);
    // In draft-07 prefixItems is an unknown keyword, and `items: false` is the schema of every item.
    expect(compile(point).validate({ p: [1, "x"] })).toEqual([
      { path: "/p/0", message: "boolean schema is false" },
      { path: "/p/1", message: "boolean schema is false" },
    ]);
  });

  it("names the extra property of additionalProperties", () => {
    expect(compile({ properties: { a: {} }, additionalProperties: false }).validate({ a: 1, zz: 2 })).toEqual([
      { path: "", message: "must NOT have additional properties: 'zz'" },
    ]);
  });

  it("accepts boolean schemas", () => {
    expect(compileJsonSchema("true").validate({ anything: 1 })).toEqual([]);
    expect(compileJsonSchema("false").validate({})).toEqual([{ path: "", message: "boolean schema is false" }]);
  });

  it("ignores keywords it does not know", () => {
    expect(
      compile({ ...person, "x-ui": { widget: "email" }, deprecated: "soon" }).validate({ email: "a@b.co" }),
    ).toEqual([]);
  });

  it.each<[string, string, RegExp]>([
    ["text that is not JSON", "{", /^the JSON Schema is not valid JSON: /u],
    ["an array", "[]", /must be a JSON object or a boolean/u],
    ["a string", '"object"', /must be a JSON object or a boolean/u],
    ["null", "null", /must be a JSON object or a boolean/u],
    [
      "an unknown type",
      '{"type":"nope"}',
      /^the JSON Schema is invalid: schema\/type must be equal to one of the allowed values/u,
    ],
    [
      "a minimum that is not a number",
      '{"minimum":"x"}',
      /^the JSON Schema is invalid: schema\/minimum must be number/u,
    ],
    [
      "a pattern that is not a regex",
      '{"pattern":"("}',
      /^the JSON Schema cannot be compiled: Invalid regular expression/u,
    ],
    [
      "a $ref to nowhere",
      '{"$ref":"#/definitions/missing"}',
      /cannot be compiled: can't resolve reference #\/definitions\/missing/u,
    ],
    [
      "a $ref to another document",
      '{"$ref":"https://example.com/other.json"}',
      /can't resolve reference https:\/\/example.com\/other.json/u,
    ],
    [
      "draft-04",
      '{"$schema":"http://json-schema.org/draft-04/schema#"}',
      /draft-04\/schema#" is not supported: use one of /u,
    ],
    ["a $schema that is not a string", '{"$schema":7}', /\$schema 7 is not supported/u],
  ])("refuses %s", (_, text, message) => {
    expect(() => compileJsonSchema(text)).toThrow(ValidationError);
    expect(() => compileJsonSchema(text)).toThrow(message);
  });

  it("names the supported dialects when refusing one", () => {
    expect(() => compile({ $schema: "http://json-schema.org/draft-04/schema#" })).toThrow(
      'the JSON Schema\'s $schema "http://json-schema.org/draft-04/schema#" is not supported: use one of ' +
        "http://json-schema.org/draft-07/schema, https://json-schema.org/draft/2019-09/schema, " +
        "https://json-schema.org/draft/2020-12/schema (or none for draft-07)",
    );
  });

  it("compiles two schemas with the same $id independently", () => {
    const id = "https://example.com/schemas/thing";
    const nested = { $id: "https://example.com/schemas/part", type: "string" };
    const strings = compile({ $id: id, properties: { v: { type: "string" }, part: nested } });
    const numbers = compile({ $id: id, properties: { v: { type: "number" }, part: { ...nested, type: "number" } } });
    expect(strings.validate({ v: "x", part: "y" })).toEqual([]);
    expect(numbers.validate({ v: 1, part: 2 })).toEqual([]);
    expect(strings.validate({ v: 1, part: 2 })).toEqual([
      { path: "/v", message: "must be string" },
      { path: "/part", message: "must be string" },
    ]);
  });

  it("reuses a compiled schema for the same text and forgets the oldest beyond 256", () => {
    const text = JSON.stringify({ ...person, title: "cache test" });
    const first = compileJsonSchema(text);
    expect(compileJsonSchema(text)).toBe(first);
    for (let i = 0; i < 256; i++) compile({ title: `filler ${i}` });
    expect(compileJsonSchema(text)).not.toBe(first);
  });

  it("keeps at most 16 Mi characters of schema text: large schemas push the oldest out sooner", () => {
    const text = JSON.stringify({ ...person, title: "size test" });
    const first = compileJsonSchema(text);
    const big = (i: number) => JSON.stringify({ type: "object", description: `${i}`.padEnd(4 * 1024 * 1024, "d") });
    for (let i = 0; i < 3; i++) compileJsonSchema(big(i));
    expect(compileJsonSchema(text)).toBe(first);
    for (let i = 3; i < 8; i++) compileJsonSchema(big(i));
    expect(compileJsonSchema(text)).not.toBe(first);
  });
});

describe("formatViolations", () => {
  it("renders nothing for no violations", () => {
    expect(formatViolations([])).toBe("");
  });
});
