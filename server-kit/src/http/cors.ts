import { cors } from "@connectrpc/connect";
import type { NodeRequest, NodeResponse } from "./node-types.js";

/** How long browsers may cache a preflight answer, in seconds (Chrome caps at 2 h). */
const MAX_AGE_SECONDS = 7200;

/**
 * CORS for browser clients (Connect and gRPC-Web from another origin).
 * `origins` holds exact origins, or "*" for any. Returns a function that adds
 * the headers and returns true when it fully answered the request (a
 * preflight), so the caller stops there. A disallowed origin gets no CORS
 * headers at all, which makes the browser refuse the response.
 */
export function corsHandler(origins: readonly string[]): (req: NodeRequest, res: NodeResponse) => boolean {
  const anyOrigin = origins.includes("*");
  const allowed = new Set(origins);
  const allowMethods = cors.allowedMethods.join(", ");
  // Authorization too: browsers must be able to send their bearer token (ESKIT_AUTH_TOKENS). Preflights (OPTIONS) are
  // answered here, before any token check: browsers never send credentials with them.
  const allowHeaders = [...cors.allowedHeaders, "Authorization"].join(", ");
  const exposeHeaders = cors.exposedHeaders.join(", ");

  return (req, res) => {
    const origin = req.headers.origin;
    const preflight = req.method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined;
    if (typeof origin !== "string") return false;
    // The answer depends on Origin, so shared caches must key on it.
    res.setHeader("vary", "Origin");
    const ok = anyOrigin || allowed.has(origin);
    if (ok) {
      // Echo the origin rather than "*": it also works for credentialed requests.
      res.setHeader("access-control-allow-origin", origin);
    }
    if (!preflight) {
      if (ok) res.setHeader("access-control-expose-headers", exposeHeaders);
      return false;
    }
    if (ok) {
      res.setHeader("access-control-allow-methods", allowMethods);
      res.setHeader("access-control-allow-headers", allowHeaders);
      res.setHeader("access-control-max-age", String(MAX_AGE_SECONDS));
    }
    res.writeHead(204);
    res.end();
    return true;
  };
}
