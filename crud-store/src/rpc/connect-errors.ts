import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "@eskit/server-kit/logger.js";
import {
  AlreadyExistsError,
  ConcurrencyError,
  CorruptHistoryError,
  NotFoundError,
  PreconditionError,
  ValidationError,
  VersionTakenError,
} from "../domain/errors.js";

/** What a caller is told when the Event Store cannot be reached. */
const eventStoreUnavailable = "the Event Store is unavailable; retry later";

/**
 * The one place where the Crud Store's errors become Connect codes. ConnectErrors from the Event Store pass through
 * with their code (a lost Event Store stays `unavailable`, which clients retry; a passed deadline stays
 * `deadline_exceeded`); anything unexpected becomes `internal`, with the details in the log, not in the answer.
 */
export function toConnectError(error: unknown, logger: Logger): ConnectError {
  // An Event Store error carries that response's headers and trailers (content type, encoding): passed on as they
  // are they would be written into this response and corrupt it (gRPC). Only the code and message travel.
  if (error instanceof ConnectError) {
    // `unavailable` may come from the transport itself ("connect ECONNREFUSED 10.0.3.7:8081"): a fixed message for
    // the caller; the cause, with those words, goes to the `rpc` log line.
    const message = error.code === Code.Unavailable ? eventStoreUnavailable : error.rawMessage;
    return new ConnectError(message, error.code, undefined, undefined, error);
  }
  const code = codeOf(error);
  if (code !== undefined) return new ConnectError((error as Error).message, code, undefined, undefined, error);
  logger.error("unexpected error", { error: String(error), stack: (error as Error | undefined)?.stack });
  return new ConnectError("internal error", Code.Internal, undefined, undefined, error);
}

function codeOf(error: unknown): Code | undefined {
  if (error instanceof ValidationError) return Code.InvalidArgument;
  if (error instanceof NotFoundError) return Code.NotFound;
  if (error instanceof AlreadyExistsError) return Code.AlreadyExists;
  if (error instanceof ConcurrencyError) return Code.Aborted;
  // The core turns every taken version into one of the above; should one slip through, it keeps the Event Store's code.
  if (error instanceof VersionTakenError) return Code.Aborted;
  if (error instanceof PreconditionError) return Code.FailedPrecondition;
  return undefined;
}

/** Maps whatever a handler throws to a ConnectError, so handlers throw domain errors freely. */
export function errorInterceptor(logger: Logger): Interceptor {
  return (next) => async (request) => {
    try {
      return await next(request);
    } catch (error) {
      if (error instanceof CorruptHistoryError) logger.error("unreadable history", { error: error.message });
      throw toConnectError(error, logger);
    }
  };
}
