import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";

/** Longest error message a client receives, in characters. */
export const maxErrorMessageLength = 1024;

/** `String.prototype.toWellFormed` (Node 20+), which our `lib` setting (ES2023) does not declare yet. */
type WellFormedString = string & { isWellFormed(): boolean; toWellFormed(): string };

/**
 * A copy of `error` whose message a client can always receive: at most {@link maxErrorMessageLength} characters, and
 * valid Unicode (every lone UTF-16 surrogate replaced by U+FFFD).
 *
 * Validation messages quote what the client sent (a selector, an id), which may be megabytes: over gRPC the message
 * travels in a trailer, and a header block that large breaks the client's whole HTTP/2 connection (FRAME_SIZE_ERROR),
 * not just the call. And they may hold half of a surrogate pair (V8's JSON.parse names the one UTF-16 unit it stopped
 * at; a cut may fall inside a pair): gRPC and gRPC-Web percent-encode the message with `encodeURIComponent`, which
 * throws on a lone surrogate, so the answer could not be written at all.
 */
export function boundedError(error: ConnectError): ConnectError {
  const raw = error.rawMessage as WellFormedString;
  if (raw.length <= maxErrorMessageLength && raw.isWellFormed()) return error;
  const cut = raw.length <= maxErrorMessageLength ? raw : `${raw.slice(0, maxErrorMessageLength - 1)}…`;
  const message = (cut as WellFormedString).toWellFormed();
  const bounded = new ConnectError(message, error.code, error.metadata, undefined, error.cause);
  bounded.details.push(...error.details);
  return bounded;
}

/**
 * Bounds the message of every error a call ends with (see {@link boundedError}), also inside a response stream. An
 * error that is not a ConnectError becomes one first, as Connect would make it: `internal`, a bug of ours.
 */
export const boundedErrorsInterceptor: Interceptor = (next) => async (req) => {
  try {
    const res = await next(req);
    if (!res.stream) return res;
    const messages = res.message;
    return {
      ...res,
      message: (async function* () {
        try {
          yield* messages;
        } catch (error) {
          throw boundedError(ConnectError.from(error, Code.Internal));
        }
      })(),
    };
  } catch (error) {
    throw boundedError(ConnectError.from(error, Code.Internal));
  }
};
