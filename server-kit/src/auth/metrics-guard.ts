import { type NodeHandler, sendJson } from "../http/node-types.js";
import type { TokenVerifier } from "./token-verifier.js";

/**
 * `handler` behind a bearer token (full or read), for `GET /metrics` with `ESKIT_METRICS_AUTH=token`: Prometheus sends
 * one with `authorization: { credentials_file: ... }` in its scrape configuration. Anything else gets 401 with
 * `WWW-Authenticate: Bearer` (RFC 6750), and the body says what is missing without repeating what was sent.
 */
export function requireToken(handler: NodeHandler, verifier: TokenVerifier): NodeHandler {
  return (req, res) => {
    const verdict = verifier.verify(req.headers.authorization);
    if (verdict.ok) return handler(req, res);
    res.setHeader("www-authenticate", 'Bearer realm="eskit"');
    const error = verdict.refusal === "missing" ? "a bearer token is required" : "the bearer token is not valid here";
    sendJson(res, 401, { error });
  };
}
