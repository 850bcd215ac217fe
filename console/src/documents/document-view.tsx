import { useId } from "react";
import { useConnection } from "../connection/connection-context.js";
import { ErrorNotice } from "../ui/error-notice.js";
import { useCall } from "../ui/use-call.js";
import { readVersion, type DocumentState } from "./crud-reads.js";
import { VersionPicker } from "./version-picker.js";

/** A document at the version chosen (the latest unless another is picked here or in its history). */
export function DocumentView(props: {
  entityType: string;
  id: string;
  latest: DocumentState;
  shown: bigint;
  onShow: (version: bigint) => void;
}) {
  const { entityType, id, latest, shown } = props;
  const { clients } = useConnection();
  const headingId = useId();
  const [state] = useCall(
    (signal) =>
      shown === latest.version ? Promise.resolve(latest) : readVersion(clients.crud, entityType, id, shown, signal),
    [clients, entityType, id, shown, latest],
  );
  return (
    <section aria-labelledby={headingId}>
      <h2 id={headingId}>Document at version {shown.toString()}</h2>
      <div className="toolbar">
        <VersionPicker
          label="Show version"
          latest={latest.version}
          value={shown}
          onChange={props.onShow}
          {...(latest.deleted ? { latestNote: "deleted" } : {})}
        />
      </div>
      <dl className="facts">
        <dt>Id</dt>
        <dd>{id}</dd>
        <dt>Latest version</dt>
        <dd>
          {latest.version.toString()}{" "}
          {latest.deleted ? <span className="badge danger">deleted</span> : <span className="badge ok">live</span>}
        </dd>
      </dl>
      {state.status === "running" && <p className="status-line">Loading version {shown.toString()}…</p>}
      {state.status === "failed" && (
        <ErrorNotice error={state.error} title={`Could not read version ${shown.toString()}`} />
      )}
      {latest.deleted && shown === latest.version && (
        <p className="muted">Deleted at this version: what follows is its last state.</p>
      )}
      {state.status === "done" && (
        <pre className="json-block" tabIndex={0} aria-label={`JSON of version ${shown.toString()}`}>
          {JSON.stringify(state.value.document, null, 2)}
        </pre>
      )}
    </section>
  );
}
