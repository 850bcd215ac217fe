import { describe, expect, it } from "vitest";
import { documentOfText, documentOfValues, valuesOfDocument } from "./form-values.js";
import type { Field } from "./schema-fields.js";

const fields: Field[] = [
  { name: "name", kind: "text", required: true },
  { name: "age", kind: "number", required: false },
  { name: "active", kind: "checkbox", required: false },
  { name: "tags", kind: "json", required: false },
];

describe("valuesOfDocument", () => {
  it("shows each property in its input, an absent one as an empty input or an unticked box", () => {
    expect(valuesOfDocument(fields, { name: "Ada", age: 36, tags: ["a"] })).toEqual({
      name: "Ada",
      age: "36",
      active: false,
      tags: '[\n  "a"\n]',
    });
  });
});

describe("documentOfValues", () => {
  it("turns the inputs back into the document they show", () => {
    const document = { name: "Ada", age: 36, active: true, tags: ["a", "b"] };
    expect(documentOfValues(fields, valuesOfDocument(fields, document), {})).toEqual({ ok: true, document });
  });

  it("keeps the properties that have no field, in their order, and leaves out emptied inputs", () => {
    const base = { id: "x", name: "Ada", extra: { deep: true }, age: 36 };
    const result = documentOfValues(fields, { name: "Ada L.", age: "", active: false, tags: "" }, base);
    expect(result).toEqual({ ok: true, document: { id: "x", name: "Ada L.", extra: { deep: true }, active: false } });
    expect(Object.keys(result.ok ? result.document : {})).toEqual(["id", "name", "extra", "active"]);
  });

  it("keeps a text input's spaces, which are a value, and reads numbers written with spaces", () => {
    expect(documentOfValues(fields, { name: " ", age: " 7 " }, {})).toEqual({
      ok: true,
      document: { name: " ", active: false, age: 7 },
    });
  });

  it("names each input that holds no valid value instead of sending anything", () => {
    const result = documentOfValues(fields, { name: "Ada", age: "12abc", tags: "[1," }, {});
    expect(result.ok).toBe(false);
    const problems = result.ok ? new Map() : result.problems;
    expect([...problems.keys()]).toEqual(["age", "tags"]);
    expect(problems.get("age")).toBe("is not a number");
    expect(problems.get("tags")).toMatch(/^is not valid JSON: /);
  });
});

describe("documentOfText", () => {
  it("reads a JSON object and refuses anything else, saying why", () => {
    expect(documentOfText('{"a":1}')).toEqual({ ok: true, document: { a: 1 } });
    expect(documentOfText("[1]")).toEqual({ ok: false, problem: "must be a JSON object" });
    expect(documentOfText("null")).toEqual({ ok: false, problem: "must be a JSON object" });
    expect(documentOfText("{")).toMatchObject({ ok: false, problem: expect.stringMatching(/^is not valid JSON: /) });
  });
});
