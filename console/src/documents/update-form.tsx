import { useId } from "react";
import { useConnection, useWriteBlocked } from "../connection/connection-context.js";
import type { DocumentState } from "./crud-reads.js";
import { DocumentForm } from "./document-form.js";
import type { Field } from "./schema-fields.js";
import { staleVersionNotice } from "./stale-version.js";

/**
 * Replaces the document with the form's, based on the latest version this page read: if someone wrote in between,
 * the Crud Store refuses (`aborted`) and the form says so and offers to reload.
 */
export function UpdateForm(props: {
  entityType: string;
  id: string;
  latest: DocumentState;
  fields: readonly Field[] | undefined;
  onWritten: () => void;
}) {
  const { entityType, id, latest } = props;
  const { clients } = useConnection();
  const blocked = useWriteBlocked("crudStore");
  const headingId = useId();
  return (
    <section aria-labelledby={headingId}>
      <h2 id={headingId}>Update version {latest.version.toString()}</h2>
      <DocumentForm
        // A new latest version starts the form over from it.
        key={latest.version.toString()}
        label="Update the document"
        fields={props.fields}
        document={latest.document}
        submitLabel="Update"
        blocked={blocked}
        onSubmit={async (document) => {
          await clients.crud.update({
            entityType,
            originator: { id, version: latest.version },
            payload: JSON.stringify(document),
          });
          props.onWritten();
        }}
        explain={(error) => staleVersionNotice(error, props.onWritten)}
      />
    </section>
  );
}
