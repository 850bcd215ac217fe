import { ValidationError } from "./errors.js";

/** The entity type under which the type registry keeps its own records (as events, like any document). */
export const registryEntityType = "eskit.crudstore.EntityType";
/** Ids starting with this are the Crud Store's own (registry records); documents cannot use them. */
export const reservedIdPrefix = "eskit.crudstore.";

const maxEntityTypeLength = 200;
const maxIdLength = 255;
// As in the Event Store: '*' is for selectors, white space and control characters would make selectors ambiguous.
const forbidden = /[\s*\u0000-\u001f\u007f]/u;

/**
 * Checks a document's entity type (e.g. `acme.users.v1.User`): 1 to 200 characters (its event types add an action,
 * and registry ids a prefix, within the Event Store's 255), none of '*', white space or control characters.
 */
export function checkEntityType(entityType: string, where = "entity_type"): void {
  if (entityType.length === 0) throw new ValidationError(`${where} is empty`);
  if (entityType.length > maxEntityTypeLength) {
    throw new ValidationError(`${where} is ${entityType.length} characters long: at most ${maxEntityTypeLength}`);
  }
  if (forbidden.test(entityType)) {
    throw new ValidationError(`${where} "${entityType}" contains '*', white space or a control character`);
  }
  if (entityType.startsWith(".") || entityType.endsWith(".")) {
    throw new ValidationError(`${where} "${entityType}" starts or ends with a dot`);
  }
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
