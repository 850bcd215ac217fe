import { parseSelectorText } from "@eskit/client/event-type.js";

/**
 * The NATS subject of an Application Log entry: `<prefix>.<entity type>.<action>`, one token each, so that a JetStream
 * filter says what a selector says: `User.*` → `<prefix>.User.*`, `*.Deleted` → `<prefix>.*.Deleted`. An entity type
 * may hold dots (`com.acme.User`), which would split it into several tokens and break `*.Deleted` (a NATS `*` matches
 * one token), so the characters a token cannot hold are percent-escaped: `.` → `%2E`, `>` → `%3E`, and `%` itself →
 * `%25` so the escape is reversible. Names never hold `*` or white space (the event-type grammar forbids them).
 */
export function subjectOf(prefix: string, eventType: string): string {
  const dot = eventType.lastIndexOf(".");
  return `${prefix}.${escapeToken(eventType.slice(0, dot))}.${escapeToken(eventType.slice(dot + 1))}`;
}

/**
 * The JetStream filter subject equal to an Event Store selector (`""`, `*`, `T.*`, `T.A`, `*.A`, `*.*`); throws a
 * RangeError naming the problem for a selector the Event Store would reject.
 */
export function filterSubjectOf(prefix: string, selector: string): string {
  const parsed = parseSelectorText(selector);
  if ("problem" in parsed) throw new RangeError(parsed.problem);
  if (parsed.entityType === undefined && parsed.action === undefined) return `${prefix}.>`;
  const entity = parsed.entityType === undefined ? "*" : escapeToken(parsed.entityType);
  const action = parsed.action === undefined ? "*" : escapeToken(parsed.action);
  return `${prefix}.${entity}.${action}`;
}

/** What the bridge's stream holds: every subject under the prefix. */
export function streamSubjectOf(prefix: string): string {
  return `${prefix}.>`;
}

function escapeToken(name: string): string {
  return name.replace(/[%.>]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`);
}
