/**
 * The Crud Store's errors. The core throws these and knows nothing of Connect; `rpc/connect-errors.ts` maps each to
 * exactly one Connect code, in one place. Errors the Event Store returned keep their own code.
 */
export abstract class CrudStoreError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The request is malformed, or a document does not match its type's schema. */
export class ValidationError extends CrudStoreError {}

/** One way a document breaks its type's schema; `path` is a JSON Pointer into the document, "" for the root. */
export interface SchemaViolation {
  readonly path: string;
  readonly message: string;
}

/** A document does not match its type's JSON Schema: every violation, for the typed detail its client gets. */
export class SchemaViolationError extends ValidationError {
  constructor(
    message: string,
    readonly entityType: string,
    readonly schemaVersion: bigint,
    readonly violations: readonly SchemaViolation[],
  ) {
    super(message);
  }
}

/** No such document (or type), not at that version, deleted, or of another entity type. */
export class NotFoundError extends CrudStoreError {}

/** Which document an error is about, for the typed details its client gets (proto/eskit/crudstore/v1/errors.proto). */
export interface DocumentKey {
  readonly entityType: string;
  readonly id: string;
}

/** A document (or type) with that id already exists. */
export class AlreadyExistsError extends CrudStoreError {
  /** The document whose id is taken (none for a type). */
  readonly document: DocumentKey | undefined;
  constructor(message: string, options?: ErrorOptions & { document?: DocumentKey }) {
    super(message, options);
    this.document = options?.document;
  }
}

/** The caller's version is not the latest: somebody else wrote first. Read again and retry. */
export class ConcurrencyError extends CrudStoreError {
  /** The document, the version the caller gave and, when known, the current one (none for a type). */
  readonly document: (DocumentKey & { readonly basedOnVersion: bigint; readonly currentVersion?: bigint }) | undefined;
  constructor(message: string, options?: ErrorOptions & { document?: ConcurrencyError["document"] }) {
    super(message, options);
    this.document = options?.document;
  }
}

/** The request is well-formed but the current state forbids it (e.g. a schema_version that does not increase). */
export class PreconditionError extends CrudStoreError {}

/**
 * An originator's history cannot be read as a document: events the Crud Store did not write, or a hole in the
 * versions. Never the caller's fault, so it surfaces as `internal`, with the details in the log.
 */
export class CorruptHistoryError extends CrudStoreError {}

/**
 * The Event Store already holds an event at a version the core tried to append (the Event Store's `aborted`): another
 * writer went first. Raised through the Event Store port; the core turns it into AlreadyExistsError or
 * ConcurrencyError, saying which document.
 */
export class VersionTakenError extends CrudStoreError {}
