import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import {
  ConcurrencyError,
  DuplicateEventError,
  LimitExceededError,
  NotFoundError,
  PreconditionError,
  UnavailableError,
  ValidationError,
  VersionGapError,
} from "../domain/errors.js";
import { isCancelled, isConnectionError } from "../storage/errors.js";

/**
 * The one place where domain errors become Connect codes. Anything unexpected becomes `internal` with a generic
 * message (details go to the log, not to the caller); a lost database becomes `unavailable`, which clients retry.
 */
export function toConnectError(error: unknown): ConnectError {
  if (error instanceof ConnectError) return error;
  // A client that goes away over HTTP/1.1 aborts the handler's signal with a bare AbortError, which a LogsPoll stream
  // rethrows: that is a cancel (as the client sees it), not a fault of ours to log and count as `internal`.
  if (error instanceof Error && error.name === "AbortError") return ConnectError.from(error);
  const code = codeOf(error);
  if (code !== undefined) return new ConnectError((error as Error).message, code, undefined, undefined, error);
  // A statement cancelled by someone else than this call (an operator's pg_cancel_backend) may be retried as well.
  if (isConnectionError(error) || isCancelled(error)) {
    return new ConnectError("the database is unavailable; retry later", Code.Unavailable, undefined, undefined, error);
  }
  return new ConnectError("internal error", Code.Internal, undefined, undefined, error);
}

function codeOf(error: unknown): Code | undefined {
  if (error instanceof ValidationError) return Code.InvalidArgument;
  if (error instanceof ConcurrencyError) return Code.Aborted;
  if (error instanceof VersionGapError || error instanceof PreconditionError) return Code.FailedPrecondition;
  if (error instanceof DuplicateEventError) return Code.AlreadyExists;
  if (error instanceof LimitExceededError) return Code.ResourceExhausted;
  if (error instanceof NotFoundError) return Code.NotFound;
  if (error instanceof UnavailableError) return Code.Unavailable;
  return undefined;
}

/**
 * Maps whatever a handler throws (also from inside a response stream) to a ConnectError, so that handlers may throw
 * domain errors freely.
 */
export const errorInterceptor: Interceptor = (next) => async (request) => {
  try {
    const response = await next(request);
    return response.stream ? { ...response, message: mapErrors(response.message) } : response;
  } catch (error) {
    throw toConnectError(error);
  }
};

async function* mapErrors<T>(messages: AsyncIterable<T>): AsyncIterable<T> {
  try {
    yield* messages;
  } catch (error) {
    throw toConnectError(error);
  }
}
