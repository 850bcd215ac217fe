import { ConnectError, schemaViolationsOf } from "@eskit/client";
import { useId, useMemo, useState, type ReactNode } from "react";
import { ErrorNotice } from "../ui/error-notice.js";
import { BlockedReason } from "./blocked-reason.js";
import { placeViolations } from "./field-violations.js";
import { FieldInput } from "./field-input.js";
import { FormModeSwitch, JsonTextInput } from "./form-mode.js";
import type { Field } from "./schema-fields.js";
import { useDocumentForm } from "./use-document-form.js";

/** What a {@link DocumentForm} needs: the schema's fields (none: JSON only), the document it starts from, the write. */
export interface DocumentFormProps {
  /** The form's accessible name, e.g. "Create a document". */
  readonly label: string;
  readonly fields: readonly Field[] | undefined;
  /** The document edited (`{}` for a new one); give the form a new `key` to start again from another. */
  readonly document: Record<string, unknown>;
  readonly submitLabel: string;
  /** Why writes are off (the button is disabled and says so), or undefined. */
  readonly blocked: string | undefined;
  /** Writes the document; a rejection is shown by the form (at the fields, for schema violations). */
  readonly onSubmit: (document: Record<string, unknown>) => Promise<void>;
  /** A failure the caller explains itself (a stale version, say), instead of the plain error notice. */
  readonly explain?: (error: unknown) => ReactNode | undefined;
  /** Inputs of the caller's before the document's (the create form's id). */
  readonly children?: ReactNode;
}

/**
 * A document's form: an input per property of the type's schema, or the whole document as JSON text. Inputs that
 * do not parse stop the write at their field; the Crud Store's schema violations come back to the field of each
 * violation's path, and the error notice gives the refusal with every violation, those no field owns included.
 */
export function DocumentForm(props: DocumentFormProps) {
  const { blocked } = props;
  const form = useDocumentForm(props.fields, props.document);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<unknown>(undefined);
  const blockedId = useId();
  const placed = useMemo(() => {
    const violations = failure === undefined ? undefined : schemaViolationsOf(ConnectError.from(failure));
    const names = form.mode === "fields" ? form.fields.map((f) => f.name) : [];
    return placeViolations(violations?.violations ?? [], names).atFields;
  }, [failure, form.mode, form.fields]);
  const problemsOf = (name: string) => [...(form.problems.get(name) ?? []), ...(placed.get(name) ?? [])];

  async function submit() {
    if (blocked !== undefined || busy) return;
    const document = form.read();
    if (document === undefined) return setFailure(undefined);
    setBusy(true);
    setFailure(undefined);
    try {
      await props.onSubmit(document);
    } catch (error) {
      setFailure(error);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form
      className="document-form"
      aria-label={props.label}
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      {props.children}
      <FormModeSwitch form={form} />
      {form.mode === "fields" ? (
        form.fields.map((field) => (
          <FieldInput
            key={field.name}
            field={field}
            value={form.values[field.name] ?? ""}
            problems={problemsOf(field.name)}
            onChange={(value) => form.setValue(field.name, value)}
          />
        ))
      ) : (
        <JsonTextInput form={form} />
      )}
      {failure !== undefined && (props.explain?.(failure) ?? <ErrorNotice error={failure} title="Not saved" />)}
      <div className="toolbar form-actions">
        <button
          type="submit"
          disabled={blocked !== undefined || busy}
          aria-describedby={blocked === undefined ? undefined : blockedId}
        >
          {props.submitLabel}
        </button>
        {busy && <span className="status-line">Saving…</span>}
      </div>
      <BlockedReason id={blockedId} reason={blocked} />
    </form>
  );
}
