import { constants } from "node:http2";
import { Code, ConnectError } from "@connectrpc/connect";

/**
 * The Connect codes of Node's errors and of HTTP/2 reset codes, as connect-node gives them (its node-error.ts, which
 * the package does not export). The lean transport must fail exactly as connect-node does when a connection dies
 * (`lostConnectionInterceptor` and the Crud Store's callers read these codes): node-h2-errors.unit.spec.ts loads
 * connect-node's own module and holds this mapping equal to it for any error, so an upgrade that changes it fails
 * there. The reset codes follow gRPC's table (doc/PROTOCOL-HTTP2.md, "Errors").
 */

/** Like `ConnectError.from`, with the codes connect-node gives Node's own errors (ECONNRESET, ECONNREFUSED, ...). */
export function connectErrorFromNodeReason(reason: unknown): ConnectError {
  let code = Code.Internal;
  const codes = nodeErrorCodes(reason);
  if (codes.includes("ERR_STREAM_WRITE_AFTER_END")) {
    code = Code.Aborted;
  } else if (
    codes.includes("ERR_STREAM_DESTROYED") ||
    codes.includes("ERR_HTTP2_INVALID_STREAM") ||
    codes.includes("ECONNRESET")
  ) {
    code = Code.Aborted;
  } else if (
    codes.includes("ETIMEDOUT") ||
    codes.includes("ENOTFOUND") ||
    codes.includes("EAI_AGAIN") ||
    codes.includes("ECONNREFUSED")
  ) {
    code = Code.Unavailable;
  }
  const error = ConnectError.from(reason, code);
  if (error !== reason) error.cause = reason;
  return error;
}

/** The `code` of each error of the `cause` chain that has one (as connect-node's unwrapNodeErrorChain walks it). */
export function nodeErrorCodes(reason: unknown): string[] {
  const seen: Error[] = [];
  const codes: string[] = [];
  while (reason instanceof Error && !seen.includes(reason)) {
    seen.push(reason);
    const code = (reason as { code?: unknown }).code;
    if (typeof code === "string") codes.push(code);
    if (!("cause" in reason)) break;
    reason = reason.cause;
  }
  return codes;
}

const resetCodes = new Map<number, [name: string, code: Code]>([
  [constants.NGHTTP2_PROTOCOL_ERROR, ["PROTOCOL_ERROR", Code.Internal]],
  [constants.NGHTTP2_INTERNAL_ERROR, ["INTERNAL_ERROR", Code.Internal]],
  [constants.NGHTTP2_FLOW_CONTROL_ERROR, ["FLOW_CONTROL_ERROR", Code.Internal]],
  [constants.NGHTTP2_SETTINGS_TIMEOUT, ["SETTINGS_TIMEOUT", Code.Internal]],
  [constants.NGHTTP2_FRAME_SIZE_ERROR, ["FRAME_SIZE_ERROR", Code.Internal]],
  [constants.NGHTTP2_COMPRESSION_ERROR, ["COMPRESSION_ERROR", Code.Internal]],
  [constants.NGHTTP2_CONNECT_ERROR, ["CONNECT_ERROR", Code.Internal]],
  [constants.NGHTTP2_REFUSED_STREAM, ["REFUSED_STREAM", Code.Unavailable]],
  [constants.NGHTTP2_CANCEL, ["CANCEL", Code.Canceled]],
  [constants.NGHTTP2_ENHANCE_YOUR_CALM, ["ENHANCE_YOUR_CALM", Code.ResourceExhausted]],
  [constants.NGHTTP2_INADEQUATE_SECURITY, ["INADEQUATE_SECURITY", Code.PermissionDenied]],
  [constants.NGHTTP2_HTTP_1_1_REQUIRED, ["HTTP_1_1_REQUIRED", Code.PermissionDenied]],
]);

/** The error of a stream closed with `rstCode`; undefined for NO_ERROR and STREAM_CLOSED (as gRPC maps them). */
export function connectErrorFromH2ResetCode(rstCode: number): ConnectError | undefined {
  const known = resetCodes.get(rstCode);
  if (known === undefined) return undefined;
  return new ConnectError(`http/2 stream closed with error code ${known[0]} (0x${rstCode.toString(16)})`, known[1]);
}
