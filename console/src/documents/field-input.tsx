import { useId } from "react";
import type { FieldValue } from "./form-values.js";
import type { Field } from "./schema-fields.js";

/**
 * One property's input, labelled with the property's name. What is wrong with it (a value that does not parse, the
 * schema's violations at this property) is shown under it, and the input is marked `aria-invalid` and described by
 * that text, so a screen reader reads the problem with the field.
 */
export function FieldInput(props: {
  field: Field;
  value: FieldValue;
  problems: readonly string[];
  onChange: (value: FieldValue) => void;
}) {
  const { field, value, problems } = props;
  const id = useId();
  const described = [field.hint === undefined ? "" : `${id}-hint`, problems.length === 0 ? "" : `${id}-problem`];
  const common = {
    id,
    "aria-invalid": problems.length > 0 ? true : undefined,
    "aria-describedby": described.filter((d) => d !== "").join(" ") || undefined,
    "aria-required": field.required ? true : undefined,
  };
  const text = typeof value === "string" ? value : "";
  // The label is the property's name alone, so that it reads as the document's field; "required" stands beside it.
  const label = (
    <span className="label-line">
      <label htmlFor={id}>{field.name}</label>
      {field.required && <span className="badge">required</span>}
    </span>
  );
  return (
    <div className={`field field-${field.kind}`}>
      {field.kind === "checkbox" ? (
        <div className="checkbox-line">
          <input
            {...common}
            type="checkbox"
            checked={value === true}
            onChange={(e) => props.onChange(e.target.checked)}
          />
          {label}
        </div>
      ) : (
        label
      )}
      {field.kind === "text" && (
        <input {...common} type="text" value={text} onChange={(e) => props.onChange(e.target.value)} />
      )}
      {field.kind === "number" && (
        <input {...common} type="number" step="any" value={text} onChange={(e) => props.onChange(e.target.value)} />
      )}
      {field.kind === "json" && (
        <textarea
          {...common}
          className="json-field"
          spellCheck={false}
          value={text}
          onChange={(e) => props.onChange(e.target.value)}
        />
      )}
      {field.hint !== undefined && (
        <span id={`${id}-hint`} className="muted">
          {field.hint}
        </span>
      )}
      {problems.length > 0 && (
        <span id={`${id}-problem`} className="field-error">
          {problems.join("; ")}
        </span>
      )}
    </div>
  );
}
