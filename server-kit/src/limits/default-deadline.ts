import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";

/** Request headers by which a client sets a deadline: gRPC and gRPC-Web, then Connect. */
const deadlineHeaders = ["grpc-timeout", "connect-timeout-ms"];

/**
 * Server interceptor giving unary calls without a client deadline one of `timeoutMs`, so a call stuck on a slow
 * dependency does not hold its resources forever. Past it the handler's signal aborts and the client gets
 * `deadline_exceeded` at once, even from a handler that does not watch its signal; a result ready only after the
 * deadline is dropped too (as with any deadline, a write may still complete: retry with the same event ids, which
 * makes it idempotent). A client's own deadline always wins, longer or shorter; streams (subscriptions) are exempt.
 */
export function defaultDeadlineInterceptor(timeoutMs: number): Interceptor {
  return (next) => async (req) => {
    if (timeoutMs <= 0 || req.stream || deadlineHeaders.some((name) => req.header.has(name))) return next(req);
    const deadline = new AbortController();
    const error = new ConnectError(
      `the call took longer than the server's default deadline of ${timeoutMs} ms; set a deadline on the call to allow more`,
      Code.DeadlineExceeded,
    );
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        deadline.abort(error);
        reject(error);
      }, timeoutMs);
    });
    const started = performance.now();
    try {
      const res = await Promise.race([
        next({ ...req, signal: AbortSignal.any([req.signal, deadline.signal]) }),
        expired,
      ]);
      // A handler that never yields to the event loop (CPU-bound work, an in-process database) finishes before the
      // timer can fire: past the deadline, its answer is late all the same.
      if (performance.now() - started >= timeoutMs) throw error;
      return res;
    } finally {
      clearTimeout(timer);
    }
  };
}
