import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Action } from "@eskit/client";
import { useId } from "react";
import { useConnection } from "../connection/connection-context.js";
import { ErrorNotice } from "../ui/error-notice.js";
import { useCall } from "../ui/use-call.js";
import { usePaging } from "./page-trail.js";
import { Pager } from "./pager.js";

/** Revisions per History page: each carries its document, so a page is kept as small as a screenful. */
const revisionsPerPage = 50;

const actionName = (action: Action) => (Action[action] ?? String(action)).replace(/^ACTION_/, "").toLowerCase();

/**
 * A document's history, oldest first, a page at a time: each version, what it did and when, and a button that
 * shows the document at that version. `latest` is in the call's inputs so that a write shows up at once.
 */
export function HistoryTable(props: {
  entityType: string;
  id: string;
  latest: bigint;
  onShow: (version: bigint) => void;
}) {
  const { entityType, id } = props;
  const { clients } = useConnection();
  const paging = usePaging(`${entityType}\n${id}`);
  const headingId = useId();
  const [state] = useCall(
    (signal) =>
      clients.crud.history(
        { entityType, originatorId: id, pageToken: paging.token, limit: revisionsPerPage },
        { signal },
      ),
    [clients, entityType, id, paging.token, props.latest],
  );
  const revisions = state.status === "done" ? state.value.revisions : [];
  return (
    <section aria-labelledby={headingId}>
      <h2 id={headingId}>History</h2>
      {state.status === "failed" && <ErrorNotice error={state.error} title="Could not read the history" />}
      {state.status === "running" && <p className="status-line">Loading the history…</p>}
      {revisions.length > 0 && (
        <table className="data" aria-label={`History of ${id}`}>
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Action</th>
              <th scope="col">Occurred on</th>
              <th scope="col">Document</th>
            </tr>
          </thead>
          <tbody>
            {revisions.map((revision) => {
              const occurred = revision.occurredOn === undefined ? undefined : timestampDate(revision.occurredOn);
              return (
                <tr key={revision.version.toString()}>
                  <td>{revision.version.toString()}</td>
                  <td>{actionName(revision.action)}</td>
                  <td>
                    {occurred === undefined ? (
                      ""
                    ) : (
                      <time dateTime={occurred.toISOString()}>{occurred.toISOString()}</time>
                    )}
                  </td>
                  <td>
                    <button type="button" className="secondary" onClick={() => props.onShow(revision.version)}>
                      Show version {revision.version.toString()}
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <Pager
        label="Pages of the history"
        paging={paging}
        busy={state.status === "running"}
        nextPageToken={state.status === "done" ? state.value.nextPageToken : undefined}
      />
    </section>
  );
}
