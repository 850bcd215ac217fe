/**
 * A form for a document, from its type's JSON Schema: one input per top-level property of an object schema, chosen
 * by the property's `type`. Anything the form cannot show faithfully (no schema, a schema that is not an object's,
 * a value of another type than its schema says) is edited as JSON instead, so that the form never changes a value
 * its user did not touch.
 */

/** How a property is edited: a text input, a number input, a checkbox, or a small JSON textarea. */
export type FieldKind = "text" | "number" | "checkbox" | "json";

/** One input of a document form. */
export interface Field {
  /** The property's name, which is also the input's label. */
  readonly name: string;
  readonly kind: FieldKind;
  readonly required: boolean;
  /** The schema's `title` and `description`, shown under the label. */
  readonly hint?: string;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const kindOfType = (type: unknown): FieldKind =>
  type === "string"
    ? "text"
    : type === "number" || type === "integer"
      ? "number"
      : type === "boolean"
        ? "checkbox"
        : "json";

/**
 * The fields of a type's JSON Schema text; undefined when it has none to offer (no schema, not JSON, not an object
 * schema with `properties`): the document is then edited as JSON only.
 */
export function fieldsOfSchema(jsonSchema: string): Field[] | undefined {
  if (jsonSchema.trim() === "") return undefined;
  let schema: unknown;
  try {
    schema = JSON.parse(jsonSchema);
  } catch {
    return undefined;
  }
  if (!isObject(schema) || !isObject(schema["properties"])) return undefined;
  if (schema["type"] !== undefined && schema["type"] !== "object") return undefined;
  const required = new Set(
    Array.isArray(schema["required"]) ? schema["required"].filter((r) => typeof r === "string") : [],
  );
  return Object.entries(schema["properties"]).map(([name, property]) => {
    const hint = isObject(property)
      ? [property["title"], property["description"]].filter((t) => typeof t === "string" && t !== "").join(": ")
      : "";
    return {
      name,
      kind: isObject(property) ? kindOfType(property["type"]) : "json",
      required: required.has(name),
      ...(hint === "" ? {} : { hint }),
    };
  });
}

/** Whether `value` (undefined: absent) can be shown by an input of `kind` as it is. */
export function fitsKind(kind: FieldKind, value: unknown): boolean {
  if (value === undefined || kind === "json") return true;
  if (kind === "text") return typeof value === "string";
  if (kind === "number") return typeof value === "number";
  return typeof value === "boolean";
}

/**
 * The fields for editing `document`: those whose value does not fit its input (stored before the schema changed,
 * say) become JSON fields, so that saving the form writes the value back unchanged.
 */
export function fieldsForDocument(fields: readonly Field[], document: Record<string, unknown>): Field[] {
  return fields.map((field) => (fitsKind(field.kind, document[field.name]) ? field : { ...field, kind: "json" }));
}
