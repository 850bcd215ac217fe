import { entityTypeProblem, eventTypeProblem, type EventTypeParts, splitEventType } from "@eskit/client/event-type.js";
import { ValidationError } from "./errors.js";

export type { EventTypeParts } from "@eskit/client/event-type.js";

// The grammar and its limits are ESKIT's one grammar of names (@eskit/client/event-type.js); the Event Store only
// turns its problems into ValidationErrors.

/** Splits and checks an event type; throws ValidationError naming what is wrong. */
export function parseEventType(eventType: string, where = "event_type"): EventTypeParts {
  const problem = eventTypeProblem(eventType, where);
  if (problem !== undefined) throw new ValidationError(problem);
  return splitEventType(eventType);
}

/** Checks an entity type on its own (as in `User` or `com.acme.User`); throws ValidationError naming what is wrong. */
export function checkEntityType(entityType: string, where = "entity_type"): void {
  const problem = entityTypeProblem(entityType, where);
  if (problem !== undefined) throw new ValidationError(problem);
}
