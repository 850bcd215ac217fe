import { Link } from "wouter";
import { useConnection } from "../connection/connection-context.js";
import { ErrorNotice } from "../ui/error-notice.js";
import { useCall } from "../ui/use-call.js";
import { CreateForm } from "./create-form.js";
import { readTypeSchema } from "./crud-reads.js";
import { documentPath } from "./document-paths.js";
import { DocumentsList } from "./documents-list.js";
import { OpenByName } from "./open-by-name.js";
import { SchemaView } from "./schema-view.js";
import { fieldsOfSchema } from "./schema-fields.js";

/**
 * `#/documents/<type>`: the type's live documents, a page at a time; a deleted one opened by id; and a form that
 * creates one, with an input per property of the type's schema.
 */
export function TypePage(props: { entityType: string }) {
  const { entityType } = props;
  const { clients } = useConnection();
  const [schema] = useCall((signal) => readTypeSchema(clients.crud, entityType, signal), [clients, entityType]);
  return (
    <>
      <p className="breadcrumbs">
        <Link href="~/documents">All types</Link>
      </p>
      <h1>{entityType}</h1>
      <div className="columns">
        <section aria-labelledby="documents-heading">
          <h2 id="documents-heading">Documents</h2>
          <DocumentsList entityType={entityType} />
          <OpenByName label="Document id" action="Open document" path={(id) => documentPath(entityType, id)} />
        </section>
        <div>
          {schema.status === "running" && <p className="status-line">Loading the schema…</p>}
          {schema.status === "failed" && <ErrorNotice error={schema.error} title="Could not read the type's schema" />}
          {schema.status !== "running" && (
            // Without its schema (a failed read), the form still works, on the document as JSON.
            <CreateForm
              entityType={entityType}
              fields={schema.status === "done" ? fieldsOfSchema(schema.value?.jsonSchema ?? "") : undefined}
            />
          )}
          {schema.status === "done" && (
            <details className="schema-details">
              <summary>Schema</summary>
              <SchemaView entityType={entityType} schema={schema.value} />
            </details>
          )}
        </div>
      </div>
    </>
  );
}
