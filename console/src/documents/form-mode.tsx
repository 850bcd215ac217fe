import { useId } from "react";
import { wholeDocument, type DocumentFormState } from "./use-document-form.js";

/** Fields or JSON, as two radio buttons (arrow keys move between them); nothing when only JSON is possible. */
export function FormModeSwitch(props: { form: DocumentFormState }) {
  const { form } = props;
  const name = useId();
  if (!form.canUseFields) return null;
  return (
    <fieldset className="form-mode">
      <legend>Edit as</legend>
      {(["fields", "json"] as const).map((mode) => (
        <label key={mode}>
          <input type="radio" name={name} checked={form.mode === mode} onChange={() => form.switchTo(mode)} />
          {mode === "fields" ? "Fields" : "JSON"}
        </label>
      ))}
    </fieldset>
  );
}

/** The whole document as JSON text, with what keeps it from being a document (not JSON, not an object) under it. */
export function JsonTextInput(props: { form: DocumentFormState }) {
  const { form } = props;
  const id = useId();
  const problems = form.problems.get(wholeDocument) ?? [];
  return (
    <div className="field">
      <label htmlFor={id}>Document (JSON)</label>
      <textarea
        id={id}
        className="json-document"
        spellCheck={false}
        value={form.text}
        onChange={(e) => form.setText(e.target.value)}
        aria-invalid={problems.length > 0 ? true : undefined}
        aria-describedby={problems.length > 0 ? `${id}-problem` : undefined}
      />
      {problems.length > 0 && (
        <span id={`${id}-problem`} className="field-error">
          The document {problems.join("; ")}
        </span>
      )}
    </div>
  );
}
