/**
 * The typed details of the errors clients act on (proto/eskit/*\/v1/errors.proto), read from any error a call
 * rejected with: undefined when it is not a ConnectError of that code or carries no such detail. Act on these, never
 * on the message text, which is for people and may change.
 *
 * ```ts
 * try { await client.append(request); }
 * catch (error) {
 *   const conflict = versionConflictOf(error);
 *   if (conflict === undefined) throw error;
 *   // read the events after conflict.currentVersion, decide again, append conflict.currentVersion + 1n
 * }
 * ```
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import {
  DocumentConflictSchema,
  DocumentExistsSchema,
  SchemaViolationsSchema,
} from "@eskit/gen/eskit/crudstore/v1/errors_pb.js";
import {
  EventIdTakenSchema,
  VersionConflictSchema,
  VersionGapSchema,
} from "@eskit/gen/eskit/eventstore/v1/errors_pb.js";

export type {
  DocumentConflict,
  DocumentExists,
  SchemaViolation,
  SchemaViolations,
} from "@eskit/gen/eskit/crudstore/v1/errors_pb.js";
export type { EventIdTaken, VersionConflict, VersionGap } from "@eskit/gen/eskit/eventstore/v1/errors_pb.js";

/** The first detail of type `desc` on a ConnectError of `code`. */
function detailOf<Desc extends DescMessage>(error: unknown, code: Code, desc: Desc): MessageShape<Desc> | undefined {
  if (!(error instanceof ConnectError) || error.code !== code) return undefined;
  return error.findDetails(desc)[0];
}

/** Event Store, `aborted`: the originator already has the version the append tried to write. */
export const versionConflictOf = (error: unknown) => detailOf(error, Code.Aborted, VersionConflictSchema);

/** Event Store, `failed_precondition`: the version skips ahead of the originator's next one. */
export const versionGapOf = (error: unknown) => detailOf(error, Code.FailedPrecondition, VersionGapSchema);

/** Event Store, `already_exists`: an event id of the request is stored with other content. */
export const eventIdTakenOf = (error: unknown) => detailOf(error, Code.AlreadyExists, EventIdTakenSchema);

/** Crud Store, `aborted`: the document changed since the version the caller's change was based on. */
export const documentConflictOf = (error: unknown) => detailOf(error, Code.Aborted, DocumentConflictSchema);

/** Crud Store, `already_exists`: Create with the id of a document that exists. */
export const documentExistsOf = (error: unknown) => detailOf(error, Code.AlreadyExists, DocumentExistsSchema);

/**
 * Crud Store, `invalid_argument`: Create or Update of a document that does not match its type's JSON Schema, with
 * every violation at its place in the document (a JSON Pointer), e.g. to show each at its field of a form.
 */
export const schemaViolationsOf = (error: unknown) => detailOf(error, Code.InvalidArgument, SchemaViolationsSchema);
