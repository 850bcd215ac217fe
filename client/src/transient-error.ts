import { Code, ConnectError } from "@connectrpc/connect";

/**
 * Codes that say "this request will fail again however often you send it": a bad selector or consumer id, a
 * missing permission, an RPC the server does not have. Retrying them would only hide a mistake behind a log line
 * repeated forever, so a consumer stops with them.
 */
const permanentCodes: ReadonlySet<Code> = new Set([
  Code.InvalidArgument,
  Code.NotFound,
  Code.AlreadyExists,
  Code.PermissionDenied,
  Code.FailedPrecondition,
  Code.OutOfRange,
  Code.Unimplemented,
  Code.Unauthenticated,
  Code.DataLoss,
]);

/**
 * Whether a failed call may succeed when sent again later. Everything not known to be permanent counts as
 * transient, because a connection that drops shows up under many codes depending on the protocol and the moment:
 * `unavailable` (refused, server shutting down), `aborted` (ECONNRESET), `internal` (an HTTP/2 stream reset),
 * `canceled` (a session torn down under the call), `unknown` (fetch's "TypeError: failed to fetch"),
 * `deadline_exceeded`, `resource_exhausted`. (`createNodeTransport` reports the ECONNRESET and torn-down cases as
 * `unavailable`, see `lost-connection.ts`; other transports may not.)
 */
export function isTransient(error: unknown): boolean {
  return !permanentCodes.has(ConnectError.from(error).code);
}
