import { Code, ConnectError, documentConflictOf } from "@eskit/client";
import { describeError } from "../ui/error-notice.js";

/**
 * The explanation of an `aborted` Update or Delete: someone changed the document after the version this page read,
 * so nothing was written. Says which versions, when the refusal's DocumentConflict detail tells, and offers to read
 * the document again (which starts the form over from the new latest version). Undefined for any other failure.
 */
export function staleVersionNotice(error: unknown, reload: () => void) {
  const connectError = ConnectError.from(error);
  if (connectError.code !== Code.Aborted) return undefined;
  const conflict = documentConflictOf(connectError);
  const { code, message } = describeError(error);
  return (
    <div role="alert" className="error-notice stale-version">
      <strong>The document changed since you read it</strong> <code className="error-code">{code}</code>:{" "}
      {conflict === undefined ? (
        <span className="error-message">{message}</span>
      ) : (
        <span className="error-message">
          your change was based on version {conflict.basedOnVersion.toString()}
          {conflict.currentVersion > 0n ? `, and it is now at version ${conflict.currentVersion.toString()}` : ""}.
        </span>
      )}{" "}
      Nothing was written. Reload it to see the latest version (your edits here are then lost: copy them from the JSON
      mode first if you need them).{" "}
      <button type="button" className="secondary" onClick={reload}>
        Reload the document
      </button>
    </div>
  );
}
