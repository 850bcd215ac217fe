import { Code, ConnectError } from "@connectrpc/connect";
import {
  DocumentConflictSchema,
  DocumentExistsSchema,
  SchemaViolationsSchema,
} from "@eskit/gen/eskit/crudstore/v1/errors_pb.js";
import {
  AlreadyExistsError,
  ConcurrencyError,
  NotFoundError,
  PreconditionError,
  SchemaViolationError,
  ValidationError,
  VersionTakenError,
} from "../domain/errors.js";

/** What a caller is told when the Event Store cannot be reached. */
const eventStoreUnavailable = "the Event Store is unavailable; retry later";

/**
 * The one place where the Crud Store's errors become Connect codes (given to server-kit's errorInterceptor). The
 * errors clients act on carry typed details (proto/eskit/crudstore/v1/errors.proto). ConnectErrors from the Event
 * Store pass through with their code (a lost Event Store stays `unavailable`, which clients retry; a passed deadline
 * stays `deadline_exceeded`). Anything else (a CorruptHistoryError, a bug) is left to the interceptor: `internal`,
 * with the details in the log, not in the answer.
 */
export function crudStoreErrors(error: unknown): ConnectError | undefined {
  // An Event Store error carries that response's headers and trailers (content type, encoding): passed on as they
  // are they would be written into this response and corrupt it (gRPC). Only the code and message travel.
  if (error instanceof ConnectError) {
    // `unavailable` may come from the transport itself ("connect ECONNREFUSED 10.0.3.7:8081"): a fixed message for
    // the caller; the cause, with those words, goes to the `rpc` log line.
    const message = error.code === Code.Unavailable ? eventStoreUnavailable : error.rawMessage;
    return new ConnectError(message, error.code, undefined, undefined, error);
  }
  const fail = (code: Code, details: ConstructorParameters<typeof ConnectError>[3] = []): ConnectError =>
    new ConnectError((error as Error).message, code, undefined, details, error);
  if (error instanceof SchemaViolationError) {
    const { entityType, schemaVersion, violations } = error;
    return fail(Code.InvalidArgument, [
      { desc: SchemaViolationsSchema, value: { entityType, schemaVersion, violations: [...violations] } },
    ]);
  }
  if (error instanceof ValidationError) return fail(Code.InvalidArgument);
  if (error instanceof NotFoundError) return fail(Code.NotFound);
  if (error instanceof AlreadyExistsError) {
    const document = error.document;
    return fail(
      Code.AlreadyExists,
      document === undefined ? [] : [{ desc: DocumentExistsSchema, value: { ...document } }],
    );
  }
  if (error instanceof ConcurrencyError) {
    const document = error.document;
    return fail(
      Code.Aborted,
      document === undefined
        ? []
        : [{ desc: DocumentConflictSchema, value: { ...document, currentVersion: document.currentVersion ?? 0n } }],
    );
  }
  // The core turns every taken version into one of the above; should one slip through, it keeps the Event Store's code.
  if (error instanceof VersionTakenError) return fail(Code.Aborted);
  if (error instanceof PreconditionError) return fail(Code.FailedPrecondition);
  return undefined;
}
