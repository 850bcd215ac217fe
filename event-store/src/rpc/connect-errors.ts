import { Code, ConnectError } from "@connectrpc/connect";
import {
  EventIdTakenSchema,
  VersionConflictSchema,
  VersionGapSchema,
} from "@eskit/gen/eskit/eventstore/v1/errors_pb.js";
import {
  ConcurrencyError,
  DuplicateEventError,
  LimitExceededError,
  NotFoundError,
  PreconditionError,
  ValidationError,
  VersionGapError,
} from "../domain/errors.js";
import { isCancelled, isConnectionError } from "../storage/errors.js";

/**
 * The one place where the Event Store's errors become Connect codes (given to server-kit's errorInterceptor). The
 * errors clients act on carry typed details (proto/eskit/eventstore/v1/errors.proto). A lost database is
 * `unavailable`, which clients retry, with a fixed message (the driver's words name internal hosts; the cause stays
 * on the error for the log). Anything else is left to the interceptor: a bug, `internal`.
 */
export function eventStoreErrors(error: unknown): ConnectError | undefined {
  const fail = (code: Code, details: ConstructorParameters<typeof ConnectError>[3] = []): ConnectError =>
    new ConnectError((error as Error).message, code, undefined, details, error);
  if (error instanceof ValidationError) return fail(Code.InvalidArgument);
  if (error instanceof ConcurrencyError) {
    const { originatorId, expectedVersion, currentVersion } = error;
    return fail(Code.Aborted, [
      { desc: VersionConflictSchema, value: { originatorId, expectedVersion, currentVersion } },
    ]);
  }
  if (error instanceof VersionGapError) {
    const { originatorId, expectedVersion, currentVersion } = error;
    return fail(Code.FailedPrecondition, [
      { desc: VersionGapSchema, value: { originatorId, expectedVersion, currentVersion } },
    ]);
  }
  if (error instanceof PreconditionError) return fail(Code.FailedPrecondition);
  if (error instanceof DuplicateEventError) {
    const { eventId, index } = error;
    return fail(Code.AlreadyExists, [{ desc: EventIdTakenSchema, value: { eventId, index } }]);
  }
  if (error instanceof LimitExceededError) return fail(Code.ResourceExhausted);
  if (error instanceof NotFoundError) return fail(Code.NotFound);
  // A statement cancelled by someone else than this call (an operator's pg_cancel_backend) may be retried as well.
  if (isConnectionError(error) || isCancelled(error)) {
    return new ConnectError("the database is unavailable; retry later", Code.Unavailable, undefined, undefined, error);
  }
  return undefined;
}
