import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";

/**
 * Whether a failure of a NATS call ends {@link consumeJetStream} instead of being retried: the stream is gone, the
 * consumer's configuration was refused (a bad request: JetStream answers 400), the connection was closed or is
 * draining (by its owner), or the names or options were invalid. Everything else (a pull whose heartbeats stopped,
 * a request without an answer or without a responder while NATS restarts, a consumer deleted under the reader) is
 * what a restart or a network cut looks like, and is retried.
 */
export function isPermanentFailure(error: unknown): boolean {
  if (error instanceof JetStreamApiError) {
    return error.code === JetStreamApiCodes.StreamNotFound || error.status === 400;
  }
  if (!(error instanceof Error)) return false;
  return permanentNames.has(error.name);
}

// By name: nats-core's error classes are not re-exported by the packages this one depends on.
const permanentNames = new Set([
  "ClosedConnectionError",
  "DrainingConnectionError",
  "InvalidNameError",
  "InvalidArgumentError",
  "InvalidSubjectError",
  "PermissionViolationError",
  "AuthorizationError",
]);
