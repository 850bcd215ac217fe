import type { Field } from "./schema-fields.js";

/** What an input holds: text for text, number and JSON inputs, a flag for a checkbox. */
export type FieldValue = string | boolean;

/** The inputs' values, by property name. */
export type FormValues = Readonly<Record<string, FieldValue>>;

/**
 * The values that show `document` in `fields` (from fieldsForDocument, so every value fits its input): an absent
 * property is an empty input, or an unticked checkbox.
 */
export function valuesOfDocument(fields: readonly Field[], document: Record<string, unknown>): FormValues {
  const values: Record<string, FieldValue> = {};
  for (const { name, kind } of fields) {
    const value = document[name];
    if (kind === "checkbox") values[name] = value === true;
    else if (value === undefined) values[name] = "";
    else if (kind === "text") values[name] = String(value);
    else if (kind === "number") values[name] = String(value);
    else values[name] = JSON.stringify(value, null, 2);
  }
  return values;
}

/** The document a form makes, or what is wrong with its inputs (by property name) before anything is sent. */
export type FormResult =
  | { readonly ok: true; readonly document: Record<string, unknown> }
  | { readonly ok: false; readonly problems: ReadonlyMap<string, string> };

/**
 * The document that `values` describe, over `base` (the document being edited, `{}` for a new one), whose
 * properties without a field are kept as they are. An empty input leaves its property out (an empty string is
 * written in the JSON mode); a checkbox always writes true or false.
 */
export function documentOfValues(
  fields: readonly Field[],
  values: FormValues,
  base: Record<string, unknown>,
): FormResult {
  const document: Record<string, unknown> = { ...base };
  const problems = new Map<string, string>();
  for (const { name, kind } of fields) {
    const value = values[name] ?? (kind === "checkbox" ? false : "");
    // Assigned in place, so that the properties keep their order in the stored document.
    const parsed = parseValue(kind, value);
    if ("problem" in parsed) problems.set(name, parsed.problem);
    else if (parsed.value === undefined) delete document[name];
    else document[name] = parsed.value;
  }
  return problems.size === 0 ? { ok: true, document } : { ok: false, problems };
}

/** One input's value as JSON: undefined when the input is empty. */
function parseValue(kind: Field["kind"], value: FieldValue): { value: unknown } | { problem: string } {
  if (typeof value === "boolean") return { value };
  if (kind === "text") return { value: value === "" ? undefined : value };
  if (value.trim() === "") return { value: undefined };
  if (kind === "number") {
    const number = Number(value);
    return Number.isFinite(number) ? { value: number } : { problem: "is not a number" };
  }
  try {
    return { value: JSON.parse(value) as unknown };
  } catch (error) {
    return { problem: `is not valid JSON: ${(error as Error).message}` };
  }
}

/** A whole document typed as JSON text: it must be a JSON object, as the Crud Store stores only objects. */
export function documentOfText(
  text: string,
): { ok: true; document: Record<string, unknown> } | { ok: false; problem: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { ok: false, problem: `is not valid JSON: ${(error as Error).message}` };
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return { ok: false, problem: "must be a JSON object" };
  }
  return { ok: true, document: parsed as Record<string, unknown> };
}
