import type { Interceptor } from "@connectrpc/connect";

/**
 * Returns an interceptor that sets fixed headers (an API key, a tenant id) on every call, so callers
 * configure them once on the transport instead of on each request. Per-call headers win over these.
 */
export function headersInterceptor(headers: HeadersInit): Interceptor {
  const fixed = new Headers(headers);
  return (next) => async (req) => {
    fixed.forEach((value, name) => {
      if (!req.header.has(name)) {
        req.header.set(name, value);
      }
    });
    return next(req);
  };
}
