import type { Interceptor } from "@connectrpc/connect";

/**
 * Let `signal` end streaming calls only. Connect's own `shutdownSignal`
 * aborts every handler, including unary appends we would rather let finish
 * during a graceful shutdown; server streams (subscriptions) never finish on
 * their own, so they alone are told to stop. Handlers see it as `ctx.signal`,
 * and the reason they rethrow (e.g. `unavailable`) is what clients receive.
 */
export function streamShutdownInterceptor(signal: AbortSignal): Interceptor {
  return (next) => async (req) => {
    if (!req.stream) return next(req);
    return next({ ...req, signal: AbortSignal.any([req.signal, signal]) });
  };
}
