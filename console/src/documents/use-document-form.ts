import { useMemo, useState } from "react";
import { documentOfText, documentOfValues, valuesOfDocument, type FieldValue, type FormValues } from "./form-values.js";
import { fieldsForDocument, type Field } from "./schema-fields.js";

/** How the document is edited: an input per property, or the whole document as JSON text. */
export type FormMode = "fields" | "json";

/** The key of {@link DocumentFormState.problems} for the JSON text (no property has an empty name in a form). */
export const wholeDocument = "";

/** A document form's inputs, in either mode, and the moves between them. */
export interface DocumentFormState {
  readonly mode: FormMode;
  /** False without an object schema: the document is edited as JSON only. */
  readonly canUseFields: boolean;
  /** The fields for the document being edited (a value that does not fit its input is edited as JSON). */
  readonly fields: readonly Field[];
  readonly values: FormValues;
  readonly text: string;
  /** What is wrong with the inputs, by property name ({@link wholeDocument} for the JSON text). */
  readonly problems: ReadonlyMap<string, readonly string[]>;
  setValue(name: string, value: FieldValue): void;
  setText(text: string): void;
  /** Switches mode carrying the document across; stays (showing why) when the inputs do not make a document. */
  switchTo(mode: FormMode): void;
  /** The document the inputs make, or undefined (with the problems shown) when they make none. */
  read(): Record<string, unknown> | undefined;
}

interface Inputs {
  readonly mode: FormMode;
  /** The document the fields edit: its properties without a field are kept. */
  readonly base: Record<string, unknown>;
  readonly values: FormValues;
  readonly text: string;
  readonly problems: ReadonlyMap<string, readonly string[]>;
}

const noProblems: ReadonlyMap<string, readonly string[]> = new Map();
const pretty = (document: Record<string, unknown>) => JSON.stringify(document, null, 2);

/** The state of a form editing `document` with the schema's `schemaFields` (undefined: JSON only). */
export function useDocumentForm(
  schemaFields: readonly Field[] | undefined,
  document: Record<string, unknown>,
): DocumentFormState {
  const [inputs, setInputs] = useState<Inputs>(() => ({
    mode: schemaFields === undefined ? "json" : "fields",
    base: document,
    values: valuesOfDocument(fieldsForDocument(schemaFields ?? [], document), document),
    text: pretty(document),
    problems: noProblems,
  }));
  const fields = useMemo(() => fieldsForDocument(schemaFields ?? [], inputs.base), [schemaFields, inputs.base]);

  /** The document of the current mode's inputs, or the problems that keep them from making one. */
  function parse(): { document: Record<string, unknown> } | { problems: Map<string, string[]> } {
    if (inputs.mode === "json") {
      const result = documentOfText(inputs.text);
      return result.ok ? result : { problems: new Map([[wholeDocument, [result.problem]]]) };
    }
    const result = documentOfValues(fields, inputs.values, inputs.base);
    return result.ok ? result : { problems: new Map([...result.problems].map(([name, p]) => [name, [p]])) };
  }

  return {
    mode: inputs.mode,
    canUseFields: schemaFields !== undefined,
    fields,
    values: inputs.values,
    text: inputs.text,
    problems: inputs.problems,
    setValue: (name, value) => setInputs((s) => ({ ...s, values: { ...s.values, [name]: value } })),
    setText: (text) => setInputs((s) => ({ ...s, text })),
    switchTo(mode) {
      if (mode === inputs.mode || (mode === "fields" && schemaFields === undefined)) return;
      const parsed = parse();
      if ("problems" in parsed) return setInputs({ ...inputs, problems: parsed.problems });
      const base = parsed.document;
      const values = valuesOfDocument(fieldsForDocument(schemaFields ?? [], base), base);
      setInputs({ mode, base, values, text: pretty(base), problems: noProblems });
    },
    read() {
      const parsed = parse();
      setInputs({ ...inputs, problems: "problems" in parsed ? parsed.problems : noProblems });
      return "problems" in parsed ? undefined : parsed.document;
    },
  };
}
