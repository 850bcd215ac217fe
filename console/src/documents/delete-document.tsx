import { useId, useState } from "react";
import { useConnection, useWriteBlocked } from "../connection/connection-context.js";
import { ErrorNotice } from "../ui/error-notice.js";
import { BlockedReason } from "./blocked-reason.js";
import { staleVersionNotice } from "./stale-version.js";

/**
 * Deletes the document at the version this page read, after a second click that says what is deleted: a stale
 * version is refused (`aborted`), so what is deleted is always the document its user looked at.
 */
export function DeleteDocument(props: { entityType: string; id: string; version: bigint; onWritten: () => void }) {
  const { entityType, id, version } = props;
  const { clients } = useConnection();
  const blocked = useWriteBlocked("crudStore");
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<unknown>(undefined);
  const blockedId = useId();
  const headingId = useId();

  async function remove() {
    if (blocked !== undefined) return;
    setBusy(true);
    setFailure(undefined);
    try {
      await clients.crud.delete({ entityType, originator: { id, version } });
      props.onWritten();
    } catch (error) {
      setFailure(error);
      setConfirming(false);
    } finally {
      setBusy(false);
    }
  }

  const disabled = blocked !== undefined || busy;
  const describedBy = blocked === undefined ? undefined : blockedId;
  return (
    <section aria-labelledby={headingId}>
      <h2 id={headingId}>Delete</h2>
      <p className="muted">A deleted document leaves the lists; its history and every version stay readable.</p>
      {confirming ? (
        <div className="toolbar" role="group" aria-label="Confirm the deletion">
          <span>
            Delete “{id}” at version {version.toString()}?
          </span>
          <button
            type="button"
            className="danger"
            autoFocus
            disabled={disabled}
            aria-describedby={describedBy}
            onClick={() => void remove()}
          >
            Confirm delete
          </button>
          <button type="button" className="secondary" onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </div>
      ) : (
        <button
          type="button"
          className="danger"
          disabled={disabled}
          aria-describedby={describedBy}
          onClick={() => setConfirming(true)}
        >
          Delete
        </button>
      )}
      <BlockedReason id={blockedId} reason={blocked} />
      {failure !== undefined &&
        (staleVersionNotice(failure, props.onWritten) ?? <ErrorNotice error={failure} title="Not deleted" />)}
    </section>
  );
}
