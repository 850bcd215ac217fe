import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { untilAborted } from "../until-aborted.js";

/** Request headers by which a client sets a deadline: gRPC and gRPC-Web, then Connect. */
const deadlineHeaders = ["grpc-timeout", "connect-timeout-ms"];

/**
 * Server interceptor that answers every unary call by its deadline, whatever its handler is waiting for. Connect
 * aborts the handler's signal at the client's deadline but still waits for the handler to return before it answers,
 * so a handler stuck on a database that does not answer kept its client waiting past the deadline (until the client
 * gave up). Here the handler is raced against its signal: at the deadline the client gets `deadline_exceeded` at
 * once, and the handler's late result is dropped (the work it started is cancelled through the same signal where it
 * can be; a write already committing may still commit, which a retry with the same event ids makes harmless).
 *
 * Calls without a client deadline get one of `defaultTimeoutMs` (0 = none), so a call stuck on a slow dependency
 * does not hold its resources forever; a client's own deadline always wins, longer or shorter. Streams
 * (subscriptions) are exempt.
 */
export function defaultDeadlineInterceptor(defaultTimeoutMs: number): Interceptor {
  return (next) => async (req) => {
    if (req.stream) return next(req);
    if (defaultTimeoutMs <= 0 || deadlineHeaders.some((name) => req.header.has(name))) {
      return answerByDeadline(next(req), req.signal);
    }
    // Only calls that get the default pay for its timer, controller and error. The call's own signal is linked by one
    // listener, not AbortSignal.any, whose composite signal cost more per call than the rest of this interceptor.
    const deadline = new AbortController();
    const expire = (): void =>
      deadline.abort(
        new ConnectError(
          `the call took longer than the server's default deadline of ${defaultTimeoutMs} ms; set a deadline on the call to allow more`,
          Code.DeadlineExceeded,
        ),
      );
    const cancel = (): void => deadline.abort(req.signal.reason);
    if (req.signal.aborted) cancel();
    else req.signal.addEventListener("abort", cancel, { once: true });
    const timer = setTimeout(expire, defaultTimeoutMs);
    const signal = deadline.signal;
    const started = performance.now();
    try {
      const res = await answerByDeadline(next({ ...req, signal }), signal);
      // A handler that never yields to the event loop (CPU-bound work, an in-process database) finishes before the
      // timer can fire: past the deadline, its answer is late all the same.
      if (performance.now() - started >= defaultTimeoutMs) {
        expire();
        throw abortReason(deadline.signal);
      }
      return res;
    } finally {
      clearTimeout(timer);
      req.signal.removeEventListener("abort", cancel);
    }
  };
}

/** `work`'s result, unless `signal` fired first or while it ran: then the signal's reason, at once. */
async function answerByDeadline<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  const res = await untilAborted(work, signal, abortReason);
  if (signal.aborted) throw abortReason(signal);
  return res;
}

/** The signal's reason as the client should see it: Connect's own errors as they are, anything else `canceled`. */
function abortReason(signal: AbortSignal): ConnectError {
  const reason: unknown = signal.reason;
  return reason instanceof ConnectError ? reason : new ConnectError("the call was canceled", Code.Canceled);
}
