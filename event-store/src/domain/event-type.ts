import { ValidationError } from "./errors.js";

/** An event type split at its last dot: `com.acme.User.Created` is entity `com.acme.User`, action `Created`. */
export interface EventTypeParts {
  readonly entityType: string;
  readonly action: string;
}

const maxEventTypeLength = 255;
// '*' is reserved for selectors; white space and control characters would make selectors and logs ambiguous.
const forbidden = /[\s*\u0000-\u001f\u007f]/u;

/** Splits and checks an event type; throws ValidationError naming what is wrong. */
export function parseEventType(eventType: string, where = "event_type"): EventTypeParts {
  if (eventType.length === 0) throw new ValidationError(`${where} is empty: expected "<EntityType>.<Action>"`);
  if (eventType.length > maxEventTypeLength) {
    throw new ValidationError(`${where} is ${eventType.length} characters long: at most ${maxEventTypeLength}`);
  }
  if (forbidden.test(eventType)) {
    throw new ValidationError(
      `${where} "${eventType}" contains '*', white space or a control character, which are not allowed`,
    );
  }
  const dot = eventType.lastIndexOf(".");
  const entityType = dot < 0 ? "" : eventType.slice(0, dot);
  const action = dot < 0 ? "" : eventType.slice(dot + 1);
  if (entityType.length === 0 || action.length === 0) {
    throw new ValidationError(
      `${where} "${eventType}" is not "<EntityType>.<Action>": both parts around the last dot must be non-empty`,
    );
  }
  return { entityType, action };
}

/** Checks an entity type on its own (as in `User` or `com.acme.User`): 1..255 characters, no '*', white space or control. */
export function checkEntityType(entityType: string, where = "entity_type"): void {
  if (entityType.length === 0) throw new ValidationError(`${where} is empty`);
  if (entityType.length > maxEventTypeLength) {
    throw new ValidationError(`${where} is ${entityType.length} characters long: at most ${maxEventTypeLength}`);
  }
  if (forbidden.test(entityType)) {
    throw new ValidationError(
      `${where} "${entityType}" contains '*', white space or a control character, which are not allowed`,
    );
  }
}
