import { useId, useState } from "react";
import { useConnection } from "../connection/connection-context.js";
import { ErrorNotice } from "../ui/error-notice.js";
import { useCall } from "../ui/use-call.js";
import { readVersion } from "./crud-reads.js";
import { documentChanges, type DocumentChange } from "./json-diff.js";
import { VersionPicker } from "./version-picker.js";

/** One side of a change: its value as JSON, or a word for nothing (an added value had none before). */
const side = (value: string | undefined) => (value === undefined ? <em>(absent)</em> : <code>{value}</code>);

/**
 * What changed between two versions of a document, both chosen (by default the one before the latest, and the
 * latest): each changed value's path, and its old and new value, marked added, removed or changed in words as well
 * as colour.
 */
export function HistoryDiff(props: { entityType: string; id: string; latest: bigint }) {
  const { entityType, id, latest } = props;
  const { clients } = useConnection();
  const headingId = useId();
  const [picked, setPicked] = useState<{ from?: bigint; to?: bigint }>({});
  const from = picked.from ?? (latest > 1n ? latest - 1n : 1n);
  const to = picked.to ?? latest;
  const [state] = useCall(
    (signal) =>
      Promise.all([
        readVersion(clients.crud, entityType, id, from, signal),
        readVersion(clients.crud, entityType, id, to, signal),
      ]),
    [clients, entityType, id, from, to],
  );
  const changes: DocumentChange[] =
    state.status === "done" ? documentChanges(state.value[0].document, state.value[1].document) : [];
  const between = `version ${from.toString()} to version ${to.toString()}`;
  return (
    <section aria-labelledby={headingId}>
      <h2 id={headingId}>Changes between versions</h2>
      <div className="toolbar">
        <VersionPicker
          label="From version"
          latest={latest}
          value={from}
          onChange={(v) => setPicked((p) => ({ ...p, from: v }))}
        />
        <VersionPicker
          label="To version"
          latest={latest}
          value={to}
          onChange={(v) => setPicked((p) => ({ ...p, to: v }))}
        />
      </div>
      {state.status === "running" && <p className="status-line">Comparing…</p>}
      {state.status === "failed" && <ErrorNotice error={state.error} title="Could not compare the versions" />}
      {state.status === "done" && changes.length === 0 && <p className="muted">No changes from {between}.</p>}
      {changes.length > 0 && (
        <table className="data diff" aria-label={`Changes from ${between}`}>
          <thead>
            <tr>
              <th scope="col">Change</th>
              <th scope="col">Path</th>
              <th scope="col">Old → new</th>
            </tr>
          </thead>
          <tbody>
            {changes.map((change) => (
              <tr key={change.path} className={`diff-${change.kind}`}>
                <td>{change.kind}</td>
                <td>
                  <code>{change.path}</code>
                </td>
                <td>
                  {side(change.before)} → {side(change.after)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
