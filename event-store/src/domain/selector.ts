import { ValidationError } from "./errors.js";

/**
 * Which Application Log entries a reader wants. `undefined` fields match anything; when both are set, an entry must
 * match both.
 */
export interface LogFilter {
  readonly entityType?: string;
  readonly action?: string;
}

const wildcard = "*";
const invalidChars = /[\s\u0000-\u001f\u007f]/u;

/**
 * Parses a selector and a pipeline id into a filter.
 *
 * Grammar: `""` or `*` = every entry; `User.*` = entity type User; `User.Created` = exactly that event type;
 * `*.Deleted` = that action of any entity type; `*.*` = every entry. The entity type is everything before the last
 * dot, as in event types, so `com.acme.User.*` selects entity type `com.acme.User`. `pipelineId`, when set, is one
 * entity type, combined with the selector (an entry must match both; a contradiction matches nothing).
 */
export function parseSelector(selector: string, pipelineId = ""): LogFilter & { readonly matchesNothing: boolean } {
  let entityType: string | undefined;
  let action: string | undefined;
  if (selector !== "" && selector !== wildcard) {
    const dot = selector.lastIndexOf(".");
    if (dot < 0) {
      throw new ValidationError(
        `selector "${selector}" is invalid: expected "", "*", "<EntityType>.*", "<EntityType>.<Action>" or "*.<Action>"`,
      );
    }
    const entity = selector.slice(0, dot);
    const act = selector.slice(dot + 1);
    checkPart(selector, entity, "entity type");
    checkPart(selector, act, "action");
    entityType = entity === wildcard ? undefined : entity;
    action = act === wildcard ? undefined : act;
  }
  let matchesNothing = false;
  if (pipelineId !== "") {
    if (pipelineId.includes(wildcard) || invalidChars.test(pipelineId) || pipelineId.length > 255) {
      throw new ValidationError(`pipeline_id "${pipelineId}" is not an entity type`);
    }
    if (entityType !== undefined && entityType !== pipelineId) matchesNothing = true;
    entityType = pipelineId;
  }
  return { entityType, action, matchesNothing };
}

function checkPart(selector: string, part: string, what: string): void {
  if (part.length === 0) throw new ValidationError(`selector "${selector}" is invalid: the ${what} is empty`);
  if (part !== wildcard && (part.includes(wildcard) || invalidChars.test(part))) {
    throw new ValidationError(
      `selector "${selector}" is invalid: the ${what} "${part}" must be "*" or a name without '*' or white space`,
    );
  }
}

/** Whether an entry of this entity type and action passes the filter (the in-memory twin of the SQL filter). */
export function matches(filter: LogFilter, entityType: string, action: string): boolean {
  return (
    (filter.entityType === undefined || filter.entityType === entityType) &&
    (filter.action === undefined || filter.action === action)
  );
}
