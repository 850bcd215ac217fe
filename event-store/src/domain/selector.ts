import { entityTypeProblem, parseSelectorText } from "@eskit/client/event-type.js";
import { ValidationError } from "./errors.js";

/**
 * Which Application Log entries a reader wants. `undefined` fields match anything; when both are set, an entry must
 * match both.
 */
export interface LogFilter {
  readonly entityType?: string;
  readonly action?: string;
}

/**
 * Parses a selector and a pipeline id into a filter.
 *
 * Grammar (ESKIT's one grammar of names, @eskit/client/event-type.js): `""` or `*` = every entry; `User.*` = entity
 * type User; `User.Created` = exactly that event type; `*.Deleted` = that action of any entity type; `*.*` = every
 * entry. The entity type is everything before the last dot, as in event types, so `com.acme.User.*` selects entity
 * type `com.acme.User`; a part that no event type could have (too long, `*` inside a name, white space) is invalid.
 * `pipelineId`, when set, is one entity type, combined with the selector (an entry must match both; a contradiction
 * matches nothing).
 */
export function parseSelector(selector: string, pipelineId = ""): LogFilter & { readonly matchesNothing: boolean } {
  const parsed = parseSelectorText(selector);
  if ("problem" in parsed) throw new ValidationError(parsed.problem);
  let { entityType } = parsed;
  let matchesNothing = false;
  if (pipelineId !== "") {
    if (entityTypeProblem(pipelineId) !== undefined) {
      throw new ValidationError(`pipeline_id "${pipelineId}" is not an entity type`);
    }
    if (entityType !== undefined && entityType !== pipelineId) matchesNothing = true;
    entityType = pipelineId;
  }
  return { entityType, action: parsed.action, matchesNothing };
}

/** Whether an entry of this entity type and action passes the filter (the in-memory twin of the SQL filter). */
export function matches(filter: LogFilter, entityType: string, action: string): boolean {
  return (
    (filter.entityType === undefined || filter.entityType === entityType) &&
    (filter.action === undefined || filter.action === action)
  );
}
