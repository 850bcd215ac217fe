import { useState } from "react";
import { Link } from "wouter";
import { useConnection } from "../connection/connection-context.js";
import { ErrorNotice } from "../ui/error-notice.js";
import { useCall } from "../ui/use-call.js";
import { typePath } from "./document-paths.js";
import { OpenByName } from "./open-by-name.js";
import { usePaging } from "./page-trail.js";
import { Pager } from "./pager.js";
import { SchemaView } from "./schema-view.js";

/** Types per ListTypes page: a type is small (its schema), and 50 rows fit a screen or two. */
const typesPerPage = 50;

/**
 * `#/documents`: the registered types, a page at a time, each linking to its documents; the schema of the one
 * selected is shown beside the list. A type that is not registered can still be opened by name.
 */
export function TypesList() {
  const { clients } = useConnection();
  const paging = usePaging("types");
  const [selected, setSelected] = useState<string | undefined>(undefined);
  const [state] = useCall(
    (signal) => clients.crud.listTypes({ limit: typesPerPage, pageToken: paging.token }, { signal }),
    [clients, paging.token],
  );
  const types = state.status === "done" ? state.value.results : [];
  const shown = types.find((spec) => spec.entityType === selected);
  return (
    <>
      <h1>Documents</h1>
      <div className="columns">
        <section aria-labelledby="types-heading">
          <h2 id="types-heading">Registered types</h2>
          {state.status === "failed" && <ErrorNotice error={state.error} title="Could not list the types" />}
          {state.status === "running" && <p className="status-line">Loading the types…</p>}
          {state.status === "done" && types.length === 0 && (
            <p className="muted">No type is registered{paging.number > 1 ? " after the previous page" : ""}.</p>
          )}
          {types.length > 0 && (
            <table className="data" aria-label="Registered types">
              <thead>
                <tr>
                  <th scope="col">Entity type</th>
                  <th scope="col">Schema version</th>
                  <th scope="col">Schema</th>
                </tr>
              </thead>
              <tbody>
                {types.map(({ entityType, schemaSpec }) => (
                  <tr key={entityType} aria-selected={entityType === selected}>
                    <td>
                      <Link href={typePath(entityType)}>{entityType}</Link>
                    </td>
                    <td>{(schemaSpec?.schemaVersion ?? 0n).toString()}</td>
                    <td>
                      <button
                        type="button"
                        className="secondary"
                        aria-pressed={entityType === selected}
                        aria-label={`Show schema of ${entityType}`}
                        onClick={() => setSelected(entityType === selected ? undefined : entityType)}
                      >
                        Show schema
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <Pager
            label="Pages of types"
            paging={paging}
            busy={state.status === "running"}
            nextPageToken={state.status === "done" ? state.value.nextPageToken : undefined}
          />
          <OpenByName label="Entity type" action="Open type" path={typePath} />
        </section>
        <div aria-live="polite">
          {shown === undefined ? (
            <p className="muted">Choose “Show schema” on a type to read its JSON Schema here.</p>
          ) : (
            <SchemaView
              entityType={shown.entityType}
              schema={{
                schemaVersion: shown.schemaSpec?.schemaVersion ?? 0n,
                jsonSchema: shown.schemaSpec?.jsonSchema ?? "",
              }}
            />
          )}
        </div>
      </div>
    </>
  );
}
