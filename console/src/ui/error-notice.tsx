import { codeToString } from "@connectrpc/connect/protocol-connect";
import { ConnectError, schemaViolationsOf } from "@eskit/client";

/** The code and message of any failure, as the console shows it. */
export function describeError(err: unknown): { code: string; message: string } {
  const error = ConnectError.from(err);
  return { code: codeToString(error.code), message: error.rawMessage };
}

/**
 * A refused or failed call: its code and message, never a blank page. Schema violations, when the refusal carries
 * them, are listed too (forms also show them at their fields).
 */
export function ErrorNotice(props: { error: unknown; title?: string }) {
  const { code, message } = describeError(props.error);
  const violations = schemaViolationsOf(ConnectError.from(props.error));
  return (
    <div role="alert" className="error-notice">
      <strong>{props.title ?? "The call failed"}</strong> <code className="error-code">{code}</code>:{" "}
      <span className="error-message">{message}</span>
      {violations !== undefined && violations.violations.length > 0 && (
        <ul>
          {violations.violations.map((v) => (
            <li key={`${v.path} ${v.message}`}>
              <code>{v.path || "/"}</code> {v.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
