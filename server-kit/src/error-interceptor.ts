import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { clientWentAway } from "./rpc-outcome.js";

/**
 * How one service tells its clients what went wrong: a ConnectError (with its code, a message for people and, where
 * clients act on it, typed details) for every error the service knows, undefined for anything else. Given each
 * service's own mapping, {@link errorInterceptor} is the one path every error of that service takes.
 */
export type ErrorMapping = (error: unknown) => ConnectError | undefined;

/**
 * Maps whatever a handler throws, in a unary call or from inside a response stream, to a ConnectError, so handlers
 * throw domain errors freely: first through the service's `mapping`; a ConnectError it leaves alone passes as it is;
 * a client gone (an AbortError of the call's signal) is a cancel; anything else is a bug of ours, `internal` with a
 * fixed message (the cause stays on the error, for the `rpc` log line, and never reaches the client).
 *
 * It logs nothing: the logging interceptor, outside it, writes the one line per call with the code the client saw.
 */
export function errorInterceptor(mapping: ErrorMapping): Interceptor {
  const toConnectError = (error: unknown, signal: AbortSignal): ConnectError => {
    if (clientWentAway(error, signal)) {
      return new ConnectError(`the client went away: ${error.rawMessage}`, Code.Canceled, undefined, undefined, error);
    }
    const mapped = mapping(error);
    if (mapped !== undefined) return mapped;
    if (error instanceof ConnectError) return error;
    // A client that goes away over HTTP/1.1 aborts the handler's signal with a bare AbortError, which a stream may
    // rethrow: that is a cancel, as the client sees it, not a fault of ours.
    if (error instanceof Error && error.name === "AbortError") return ConnectError.from(error);
    return new ConnectError("internal error", Code.Internal, undefined, undefined, error);
  };
  async function* mapStream<T>(messages: AsyncIterable<T>, signal: AbortSignal): AsyncIterable<T> {
    try {
      yield* messages;
    } catch (error) {
      throw toConnectError(error, signal);
    }
  }
  return (next) => async (request) => {
    try {
      const response = await next(request);
      return response.stream ? { ...response, message: mapStream(response.message, request.signal) } : response;
    } catch (error) {
      throw toConnectError(error, request.signal);
    }
  };
}
