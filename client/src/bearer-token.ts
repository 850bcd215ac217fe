import type { Interceptor } from "@connectrpc/connect";

/**
 * A bearer token, or a function returning the current one (asked before every call, so a token read from a file or a
 * secret manager can change without a new transport).
 */
export type TokenSource = string | (() => string | Promise<string>);

/**
 * Returns an interceptor that sends `Authorization: Bearer <token>` with every call, which is how ESKIT services
 * with access control (`ESKIT_AUTH_TOKENS`) know the caller. An `authorization` header set on the call itself wins.
 * Prefer the transports' `token` option, which adds this interceptor.
 */
export function bearerTokenInterceptor(token: TokenSource): Interceptor {
  return (next) => async (req) => {
    if (!req.header.has("authorization")) {
      const current = typeof token === "string" ? token : await token();
      req.header.set("authorization", `Bearer ${current}`);
    }
    return next(req);
  };
}
