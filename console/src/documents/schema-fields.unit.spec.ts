import { describe, expect, it } from "vitest";
import { fieldsForDocument, fieldsOfSchema } from "./schema-fields.js";

const schema = JSON.stringify({
  type: "object",
  required: ["name"],
  properties: {
    name: { type: "string", title: "Name", description: "as on the passport" },
    age: { type: "integer", minimum: 0 },
    score: { type: "number" },
    active: { type: "boolean" },
    tags: { type: "array", items: { type: "string" } },
    nickname: { type: ["string", "null"] },
    anything: true,
  },
});

describe("fieldsOfSchema", () => {
  it("gives one field per top-level property, its input chosen by the property's type", () => {
    expect(fieldsOfSchema(schema)).toEqual([
      { name: "name", kind: "text", required: true, hint: "Name: as on the passport" },
      { name: "age", kind: "number", required: false },
      { name: "score", kind: "number", required: false },
      { name: "active", kind: "checkbox", required: false },
      { name: "tags", kind: "json", required: false },
      { name: "nickname", kind: "json", required: false },
      { name: "anything", kind: "json", required: false },
    ]);
  });

  it("offers no fields when there is no object schema to build them from", () => {
    expect(fieldsOfSchema("")).toBeUndefined();
    expect(fieldsOfSchema("{not json")).toBeUndefined();
    expect(fieldsOfSchema("true")).toBeUndefined();
    expect(fieldsOfSchema(JSON.stringify({ type: "object" }))).toBeUndefined();
    expect(fieldsOfSchema(JSON.stringify({ type: "array", properties: { a: {} } }))).toBeUndefined();
  });

  it("reads an object schema that leaves its type implicit", () => {
    expect(fieldsOfSchema(JSON.stringify({ properties: { a: { type: "string" } } }))).toEqual([
      { name: "a", kind: "text", required: false },
    ]);
  });
});

describe("fieldsForDocument", () => {
  it("edits as JSON a value whose type is not the one its schema says, so that saving keeps it", () => {
    const fields = fieldsOfSchema(schema)!;
    const forDocument = fieldsForDocument(fields, { name: 42, age: "old", active: true });
    expect(forDocument.map((f) => [f.name, f.kind])).toEqual([
      ["name", "json"],
      ["age", "json"],
      ["score", "number"],
      ["active", "checkbox"],
      ["tags", "json"],
      ["nickname", "json"],
      ["anything", "json"],
    ]);
  });
});
