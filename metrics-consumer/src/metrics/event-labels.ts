import { splitEventType } from "@eskit/client/event-type.js";

/** The two labels an event is counted under. */
export interface EventLabels {
  /** Everything before the last dot of the event type, e.g. `acme.users.v1.User`. */
  readonly entityType: string;
  /** What follows the last dot, e.g. `Created`: the action, as the original ESKIT metrics consumer labelled it. */
  readonly eventType: string;
}

/**
 * Splits `<EntityType>.<Action>` at its last dot, by ESKIT's one grammar of names (@eskit/client/event-type.js). The action alone is the
 * `event_type` label: with `entity_type` beside it the full name would repeat it, and actions (Created, Updated, ...)
 * are few, which keeps the series count low. An event type without a dot (the Event Store refuses them, but a
 * consumer should not crash on one) has an empty entity type.
 */
export function eventLabels(eventType: string): EventLabels {
  if (!eventType.includes(".")) return { entityType: "", eventType };
  const { entityType, action } = splitEventType(eventType);
  return { entityType, eventType: action };
}
