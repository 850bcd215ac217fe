import { Code, ConnectError, type Interceptor, type StreamResponse, type UnaryResponse } from "@connectrpc/connect";

/**
 * The fixed message of a call whose connection was lost before its answer. The call may or may not have taken effect:
 * an `Append` sent again with the same `event_id`s is stored once whichever it was.
 */
export const lostConnectionMessage =
  "the connection was lost before the answer (the server may have crashed): the call may or may not have taken " +
  "effect; retry it (an Append with the same event_ids is stored once)";

/**
 * Node's transports report a connection that dies under a call with codes that mean something else to ESKIT:
 * connect-node turns ECONNRESET (a server that crashed mid-call, over HTTP/1.1) into `aborted`, which ESKIT answers
 * for a version conflict (re-read, then write on top: after a crash that duplicates the write if it was stored), and
 * an HTTP/2 session torn down under a call into `canceled`, which says the caller cancelled; fetch-based transports
 * (browsers) report it as `unknown` with a bare TypeError. This interceptor gives
 * such failures the code they are, `unavailable`, with `message` (the Node error stays as the `cause`, for logs). A
 * code the server sent, and the caller's own cancellation, pass unchanged.
 */
export function lostConnectionInterceptor(message: string = lostConnectionMessage): Interceptor {
  return (next) => async (req) => {
    const lost = (error: unknown): unknown =>
      isLostConnection(error, req.signal)
        ? new ConnectError(message, Code.Unavailable, undefined, undefined, error)
        : error;
    let res: UnaryResponse | StreamResponse;
    try {
      res = await next(req);
    } catch (error) {
      throw lost(error);
    }
    if (!res.stream) return res;
    const messages = res.message;
    return {
      ...res,
      message: (async function* () {
        try {
          yield* messages;
        } catch (error) {
          throw lost(error);
        }
      })(),
    } as typeof res;
  };
}

/**
 * Whether `error` is the loss of the connection rather than an answer: a Node error lies under it (ECONNRESET, EPIPE,
 * a destroyed stream), fetch reported a network error, or it is `canceled` while the caller's `signal` was not
 * aborted.
 */
export function isLostConnection(error: unknown, signal: AbortSignal): boolean {
  const failure = ConnectError.from(error);
  if (failure.code === Code.Unavailable || failure.code === Code.DeadlineExceeded) return false;
  if (failure.code === Code.Canceled && !signal.aborted) return true;
  if (failure.code === Code.Unknown && isFetchNetworkError(failure.cause)) return !signal.aborted;
  for (let cause: unknown = failure.cause, depth = 0; cause instanceof Error && depth < 10; depth++) {
    if (typeof (cause as NodeJS.ErrnoException).code === "string") return !signal.aborted;
    cause = cause.cause;
  }
  return false;
}

/**
 * fetch's network errors: the Fetch standard makes them a TypeError, whose message each runtime words its own way
 * (Chromium, Firefox, Safari, Node's undici before and during the body). Only these: a TypeError from a bug in the
 * caller's code is not a lost connection.
 */
const fetchNetworkMessages =
  /^(Failed to fetch|NetworkError when attempting to fetch resource\.|Load failed|network error|fetch failed|terminated)$/u;

function isFetchNetworkError(error: unknown): boolean {
  return error instanceof TypeError && fetchNetworkMessages.test(error.message);
}
