import { useId, useState } from "react";
import { useLocation } from "wouter";
import { useConnection, useWriteBlocked } from "../connection/connection-context.js";
import { documentPath } from "./document-paths.js";
import { DocumentForm } from "./document-form.js";
import type { Field } from "./schema-fields.js";

/** Creates a document of `entityType` at version 1, with the id given or a new UUID, then opens it. */
export function CreateForm(props: { entityType: string; fields: readonly Field[] | undefined }) {
  const { entityType } = props;
  const { clients } = useConnection();
  const blocked = useWriteBlocked("crudStore");
  const [, navigate] = useLocation();
  const [id, setId] = useState("");
  const idInput = useId();
  const headingId = useId();
  return (
    <section aria-labelledby={headingId}>
      <h2 id={headingId}>Create a document</h2>
      <DocumentForm
        label="Create a document"
        fields={props.fields}
        document={{}}
        submitLabel="Create"
        blocked={blocked}
        onSubmit={async (document) => {
          const answer = await clients.crud.create({
            entityType,
            // No originator: the Crud Store generates the id.
            ...(id === "" ? {} : { originator: { id } }),
            payload: JSON.stringify(document),
          });
          navigate(documentPath(entityType, answer.originator?.id ?? id));
        }}
      >
        <div className="field">
          <label htmlFor={idInput}>Id</label>
          <input
            id={idInput}
            type="text"
            value={id}
            onChange={(e) => setId(e.target.value)}
            aria-describedby={`${idInput}-hint`}
          />
          <span id={`${idInput}-hint`} className="muted">
            Leave empty for a new UUID.
          </span>
        </div>
      </DocumentForm>
    </section>
  );
}
