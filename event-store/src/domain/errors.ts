/**
 * The domain's errors. The core throws these and knows nothing of Connect; `rpc/connect-errors.ts` maps each to
 * exactly one Connect code, in one place.
 */
export abstract class EventStoreError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The request is malformed: a field is missing, too long, or not of the expected form. */
export class ValidationError extends EventStoreError {}

/** The expected version is at or below the originator's current one: somebody else wrote first. */
export class ConcurrencyError extends EventStoreError {
  constructor(
    readonly originatorId: string,
    readonly expectedVersion: bigint,
    readonly currentVersion: bigint,
  ) {
    super(
      `originator "${originatorId}" is at version ${currentVersion}: version ${expectedVersion} was already written` +
        ` (read the events after ${currentVersion} and append version ${currentVersion + 1n})`,
    );
  }
}

/** The version skips ahead of current + 1: appending it would leave a hole in the originator's history. */
export class VersionGapError extends EventStoreError {
  constructor(
    readonly originatorId: string,
    readonly expectedVersion: bigint,
    readonly currentVersion: bigint,
  ) {
    super(
      `originator "${originatorId}" is at version ${currentVersion}: version ${expectedVersion} would skip` +
        ` ${currentVersion + 1n}${expectedVersion - currentVersion > 2n ? `..${expectedVersion - 1n}` : ""}`,
    );
  }
}

/** The request is well-formed but the stored state does not allow it (e.g. a snapshot of a version not yet written). */
export class PreconditionError extends EventStoreError {}

/** An event_id is already stored with other content: a different event reused the id. */
export class DuplicateEventError extends EventStoreError {
  constructor(
    message: string,
    /** The reused id. */
    readonly eventId: string,
    /** Its index in the request's events. */
    readonly index: number,
  ) {
    super(message);
  }
}

/** A payload or a request is larger than the configured limit. */
export class LimitExceededError extends EventStoreError {}

/** A named thing (a consumer) does not exist. */
export class NotFoundError extends EventStoreError {}
