import { ConnectError, type Interceptor } from "@connectrpc/connect";

/** Longest error message a client receives, in characters. */
export const maxErrorMessageLength = 1024;

/**
 * A copy of `error` whose message is at most {@link maxErrorMessageLength} characters. Validation messages quote what
 * the client sent (a selector, an id), which may be megabytes: over gRPC the message travels in a trailer, and a
 * header block that large breaks the client's whole HTTP/2 connection (FRAME_SIZE_ERROR), not just the call.
 */
export function boundedError(error: ConnectError): ConnectError {
  if (error.rawMessage.length <= maxErrorMessageLength) return error;
  const message = `${error.rawMessage.slice(0, maxErrorMessageLength - 1)}…`;
  const bounded = new ConnectError(message, error.code, error.metadata, undefined, error.cause);
  bounded.details.push(...error.details);
  return bounded;
}

/** Bounds the message of every error a call ends with (see {@link boundedError}), also inside a response stream. */
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
          throw error instanceof ConnectError ? boundedError(error) : error;
        }
      })(),
    };
  } catch (error) {
    throw error instanceof ConnectError ? boundedError(error) : error;
  }
};
