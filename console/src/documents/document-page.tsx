import { useState } from "react";
import { Link } from "wouter";
import { useConnection } from "../connection/connection-context.js";
import { ErrorNotice } from "../ui/error-notice.js";
import { useCall } from "../ui/use-call.js";
import { readLatest, readTypeSchema } from "./crud-reads.js";
import { DeleteDocument } from "./delete-document.js";
import { typePath } from "./document-paths.js";
import { DocumentView } from "./document-view.js";
import { HistoryDiff } from "./history-diff.js";
import { HistoryTable } from "./history-table.js";
import { fieldsOfSchema } from "./schema-fields.js";
import { UpdateForm } from "./update-form.js";

/**
 * `#/documents/<type>/<id>`: a document at its latest version or any other (deleted ones too), its history with
 * the changes between any two versions, and its update and deletion. Every write reads the document again, so the
 * page always shows, and writes on top of, the latest version.
 */
export function DocumentPage(props: { entityType: string; id: string }) {
  const { entityType, id } = props;
  const { clients } = useConnection();
  const [latest, reload] = useCall(
    (signal) => readLatest(clients.crud, entityType, id, signal),
    [clients, entityType, id],
  );
  const [schema] = useCall((signal) => readTypeSchema(clients.crud, entityType, signal), [clients, entityType]);
  // The version shown; undefined follows the latest, also after a write.
  const [shown, setShown] = useState<bigint | undefined>(undefined);
  const fields = schema.status === "done" ? fieldsOfSchema(schema.value?.jsonSchema ?? "") : undefined;
  return (
    <>
      <p className="breadcrumbs">
        <Link href="~/documents">All types</Link> / <Link href={typePath(entityType)}>{entityType}</Link>
      </p>
      <h1>
        {entityType} <span className="mono">{id}</span>
      </h1>
      {latest.status === "running" && <p className="status-line">Loading the document…</p>}
      {latest.status === "failed" && <ErrorNotice error={latest.error} title="Could not read the document" />}
      {latest.status === "done" && (
        <div className="columns">
          <div>
            <DocumentView
              entityType={entityType}
              id={id}
              latest={latest.value}
              shown={shown ?? latest.value.version}
              onShow={(version) => setShown(version === latest.value.version ? undefined : version)}
            />
            {latest.value.deleted ? (
              <p className="muted">
                Deleted at version {latest.value.version.toString()}: it can no longer be changed, and every version
                stays readable.
              </p>
            ) : (
              <>
                {schema.status === "running" && <p className="status-line">Loading the schema…</p>}
                {schema.status === "failed" && (
                  <ErrorNotice error={schema.error} title="Could not read the type's schema" />
                )}
                {schema.status !== "running" && (
                  <UpdateForm
                    entityType={entityType}
                    id={id}
                    latest={latest.value}
                    fields={fields}
                    onWritten={reload}
                  />
                )}
                <DeleteDocument entityType={entityType} id={id} version={latest.value.version} onWritten={reload} />
              </>
            )}
          </div>
          <div>
            <HistoryTable entityType={entityType} id={id} latest={latest.value.version} onShow={setShown} />
            <HistoryDiff entityType={entityType} id={id} latest={latest.value.version} />
          </div>
        </div>
      )}
    </>
  );
}
