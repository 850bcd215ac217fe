import { entityTypeProblem, maxEventTypeLength, maxOriginatorIdLength } from "@eskit/client/event-type.js";
import { ValidationError } from "./errors.js";
import type { CrudAction } from "./replay.js";

/** The entity type under which the type registry keeps its own records (as events, like any document). */
export const registryEntityType = "eskit.crudstore.EntityType";
/** Ids starting with this are the Crud Store's own (registry records); documents cannot use them. */
export const reservedIdPrefix = "eskit.crudstore.";
/** The type registry keeps each entity type T as the originator `eskit.crudstore.type:<T>`. */
export const registryIdPrefix = `${reservedIdPrefix}type:`;
/** The action of the event each change of a document is stored as: `<T>.Created`, `<T>.Updated`, `<T>.Deleted`. */
export const actionNames: Readonly<Record<CrudAction, string>> = {
  created: "Created",
  updated: "Updated",
  deleted: "Deleted",
};

/**
 * The longest entity type of a document, from ESKIT's one grammar of names (@eskit/client/event-type.js): its event
 * types `<T>.<Action>` must fit the Event Store's event types, and its registry originator
 * `eskit.crudstore.type:<T>` the Event Store's originator ids (the tighter of the two: 234).
 */
export const maxEntityTypeLength = Math.min(
  maxEventTypeLength - 1 - Math.max(...Object.values(actionNames).map((name) => name.length)),
  maxOriginatorIdLength - registryIdPrefix.length,
);
const maxIdLength = maxOriginatorIdLength;

/**
 * Checks a document's entity type (e.g. `acme.users.v1.User`): a name of ESKIT's grammar (no '*', white space or
 * control characters) of 1 to {@link maxEntityTypeLength} characters, other than the registry's own.
 */
export function checkEntityType(entityType: string, where = "entity_type"): void {
  const problem = entityTypeProblem(entityType, where, maxEntityTypeLength);
  if (problem !== undefined) throw new ValidationError(problem);
  if (entityType === registryEntityType) {
    throw new ValidationError(`${where} "${entityType}" is reserved for the type registry`);
  }
}

/** Checks a document id: 1 to 255 characters, no NUL, not in the Crud Store's reserved range. */
export function checkDocumentId(id: string, where = "originator.id"): void {
  if (id.length === 0) throw new ValidationError(`${where} is empty`);
  if (id.length > maxIdLength)
    throw new ValidationError(`${where} is ${id.length} characters long: at most ${maxIdLength}`);
  if (id.includes("\u0000")) throw new ValidationError(`${where} contains a NUL character`);
  if (id.startsWith(reservedIdPrefix)) {
    throw new ValidationError(
      `${where} "${id}" starts with "${reservedIdPrefix}", which is reserved for the Crud Store`,
    );
  }
}
