import { Link } from "wouter";
import { useConnection } from "../connection/connection-context.js";
import { ErrorNotice } from "../ui/error-notice.js";
import { useCall } from "../ui/use-call.js";
import { documentPath } from "./document-paths.js";
import { usePaging } from "./page-trail.js";
import { Pager } from "./pager.js";

/** Documents per List page: a screenful, and with payloads (up to 1 MiB each) still a modest answer. */
const documentsPerPage = 50;
/** The most of a document shown in its row; the document's own view shows all of it. */
const previewChars = 160;

const preview = (payload: string) => (payload.length > previewChars ? `${payload.slice(0, previewChars)}…` : payload);

/** The live documents of a type, a page at a time, in id order, each linking to its own view. */
export function DocumentsList(props: { entityType: string }) {
  const { entityType } = props;
  const { clients } = useConnection();
  const paging = usePaging(entityType);
  const [state] = useCall(
    (signal) => clients.crud.list({ entityType, pageToken: paging.token, limit: documentsPerPage }, { signal }),
    [clients, entityType, paging.token],
  );
  const results = state.status === "done" ? state.value.results : [];
  return (
    <>
      {state.status === "failed" && <ErrorNotice error={state.error} title="Could not list the documents" />}
      {state.status === "running" && <p className="status-line">Loading the documents…</p>}
      {state.status === "done" && results.length === 0 && (
        <p className="muted">No live documents{paging.number > 1 ? " after the previous page" : ""}.</p>
      )}
      {results.length > 0 && (
        <table className="data" aria-label={`Documents of ${entityType}`}>
          <thead>
            <tr>
              <th scope="col">Id</th>
              <th scope="col">Version</th>
              <th scope="col">Document</th>
            </tr>
          </thead>
          <tbody>
            {results.map(({ originator, payload }) => (
              <tr key={originator?.id}>
                <td>
                  <Link href={documentPath(entityType, originator?.id ?? "")}>{originator?.id}</Link>
                </td>
                <td>{(originator?.version ?? 0n).toString()}</td>
                <td className="preview mono">{preview(payload)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager
        label="Pages of documents"
        paging={paging}
        busy={state.status === "running"}
        nextPageToken={state.status === "done" ? state.value.nextPageToken : undefined}
      />
    </>
  );
}
