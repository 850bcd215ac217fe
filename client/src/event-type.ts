/**
 * The one grammar of ESKIT's names, shared by the Event Store, the Crud Store, the Metrics Consumer and clients (so a
 * client can check a name before it sends it). Free of Connect and of any service: each service turns a problem into
 * its own error.
 *
 * An event type is `<EntityType>.<Action>`, split at its last dot: `com.acme.User.Created` is entity type
 * `com.acme.User`, action `Created`. Names hold no `*` (the wildcard of selectors), white space or control characters
 * (they would make selectors and logs ambiguous).
 */

/** The longest event type the Event Store stores, in UTF-16 code units (JavaScript's `length`). */
export const maxEventTypeLength = 255;
/** The longest originator id (and consumer id). */
export const maxOriginatorIdLength = 255;
/** The longest entity type: an event type needs at least a dot and a one-character action after it. */
export const maxEntityTypeLength = maxEventTypeLength - 2;
/** The wildcard of selectors; no name may hold it. */
export const wildcard = "*";

const forbidden = /[\s*\u0000-\u001f\u007f]/u;

/** An event type split at its last dot. */
export interface EventTypeParts {
  readonly entityType: string;
  readonly action: string;
}

/** Splits at the last dot; an empty part (or no dot) gives an empty string there. Checks nothing. */
export function splitEventType(eventType: string): EventTypeParts {
  const dot = eventType.lastIndexOf(".");
  if (dot < 0) return { entityType: "", action: "" };
  return { entityType: eventType.slice(0, dot), action: eventType.slice(dot + 1) };
}

/** What is wrong with a name (`where` names it in the sentence), or undefined when it is a valid name. */
function nameProblem(name: string, where: string, maxLength: number): string | undefined {
  if (name.length === 0) return `${where} is empty`;
  if (name.length > maxLength) return `${where} is ${name.length} characters long: at most ${maxLength}`;
  if (forbidden.test(name)) {
    return `${where} "${name}" contains '*', white space or a control character, which are not allowed`;
  }
  return undefined;
}

/** What is wrong with an event type, or undefined when it is valid. */
export function eventTypeProblem(eventType: string, where = "event_type"): string | undefined {
  if (eventType.length === 0) return `${where} is empty: expected "<EntityType>.<Action>"`;
  const problem = nameProblem(eventType, where, maxEventTypeLength);
  if (problem !== undefined) return problem;
  const { entityType, action } = splitEventType(eventType);
  if (entityType.length === 0 || action.length === 0) {
    return `${where} "${eventType}" is not "<EntityType>.<Action>": both parts around the last dot must be non-empty`;
  }
  return undefined;
}

/**
 * What is wrong with an entity type on its own (as in `User` or `com.acme.User`), or undefined when it is valid.
 * `maxLength` is lower where the entity type is stored inside longer names (see the Crud Store's limit).
 */
export function entityTypeProblem(
  entityType: string,
  where = "entity_type",
  maxLength = maxEntityTypeLength,
): string | undefined {
  return nameProblem(entityType, where, maxLength);
}

/** What is wrong with an action (what follows the last dot), or undefined when it is valid. */
export function actionProblem(action: string, where = "action"): string | undefined {
  if (action.includes(".")) return `${where} "${action}" contains a dot`;
  return nameProblem(action, where, maxEventTypeLength - 2);
}

/**
 * A selector of Application Log entries: `""` or `*` = every entry; `User.*` = entity type User; `User.Created` =
 * exactly that event type; `*.Deleted` = that action of any entity type; `*.*` = every entry. Undefined fields match
 * anything.
 */
export interface Selector {
  readonly entityType?: string;
  readonly action?: string;
}

/** Parses a selector, or says what is wrong with it (`{ problem }`). */
export function parseSelectorText(selector: string): Selector | { readonly problem: string } {
  if (selector === "" || selector === wildcard) return {};
  const dot = selector.lastIndexOf(".");
  if (dot < 0) {
    return {
      problem: `selector "${selector}" is invalid: expected "", "*", "<EntityType>.*", "<EntityType>.<Action>" or "*.<Action>"`,
    };
  }
  const entity = selector.slice(0, dot);
  const action = selector.slice(dot + 1);
  const problem =
    (entity === wildcard ? undefined : entityTypeProblem(entity, "the entity type")) ??
    (action === wildcard ? undefined : actionProblem(action, "the action"));
  if (problem !== undefined) return { problem: `selector "${selector}" is invalid: ${problem}` };
  return {
    ...(entity === wildcard ? {} : { entityType: entity }),
    ...(action === wildcard ? {} : { action }),
  };
}
