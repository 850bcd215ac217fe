import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { type AccessTables, accessOf } from "./rpc-access.js";
import type { Refusal, TokenVerifier } from "./token-verifier.js";

const refusalMessages: Record<Refusal, string> = {
  missing: "this server needs a token: send the header Authorization: Bearer <token>",
  malformed: "the Authorization header must be Bearer <token>",
  unknown: "the bearer token is not valid here",
};

/**
 * Server interceptor enforcing bearer tokens on every RPC that is not `open` in `access` (see `rpc-access.ts`): no valid token →
 * `unauthenticated`; a read token on a write → `permission_denied`. A method missing from the access table counts as
 * a write, so forgetting to classify one never opens it. The messages never repeat what the client sent, and nothing
 * here logs. It runs as a Connect interceptor, so the error reaches each protocol (gRPC, gRPC-Web, Connect) in its
 * own form.
 */
export function authInterceptor(verifier: TokenVerifier, access: AccessTables): Interceptor {
  return (next) => async (req) => {
    const needs = accessOf(access, req.method) ?? "write";
    if (needs === "open") return next(req);
    const verdict = verifier.verify(req.header.get("authorization"));
    if (!verdict.ok) throw new ConnectError(refusalMessages[verdict.refusal], Code.Unauthenticated);
    if (needs === "write" && verdict.grant !== "full") {
      throw new ConnectError(
        `${req.method.parent.typeName}/${req.method.name} changes data: it needs a full token, and this one may only read`,
        Code.PermissionDenied,
      );
    }
    return next(req);
  };
}
