import type { ChangeEncoding, EncodedChange } from "../domain/changes.js";
import { CorruptHistoryError } from "../domain/errors.js";
import { splitEventType } from "@eskit/client/event-type.js";
import { actionNames } from "../domain/names.js";
import type { CrudAction, StoredChange } from "../domain/replay.js";
import type { NewEvent, StoredEvent } from "./event-store-port.js";

/** Metadata on every event the Crud Store writes, so consumers of the log can tell them apart. */
export const sourceKey = "eskit.source";
export const sourceValue = "crud-store";
/** How an Updated event's payload reads: a JSON Merge Patch, or the whole document. */
export const encodingKey = "eskit.encoding";

const actionsByName = new Map(Object.entries(actionNames).map(([action, name]) => [name, action as CrudAction]));

/** The Event Store event type of an action on an entity type, e.g. `acme.User.Updated`. */
export function eventTypeOf(entityType: string, action: CrudAction): string {
  return `${entityType}.${actionNames[action]}`;
}

/** The event that records one change of a document. */
export function changeEvent(
  entityType: string,
  originatorId: string,
  version: bigint,
  action: CrudAction,
  change: EncodedChange,
): NewEvent {
  const metadata: Record<string, string> = { [sourceKey]: sourceValue };
  if (action === "updated") metadata[encodingKey] = change.encoding;
  return {
    originatorId,
    version,
    eventType: eventTypeOf(entityType, action),
    payload: action === "deleted" ? "{}" : change.payload,
    metadata,
  };
}

/**
 * Reads an Event Store event back as a change of a document of `entityType`. An event of another entity type, or
 * with an action the Crud Store never writes, means the history is not a Crud Store document's.
 */
export function toStoredChange(event: StoredEvent, entityType: string): StoredChange {
  const version = event.version;
  const prefix = `${entityType}.`;
  const action = event.eventType.startsWith(prefix)
    ? actionsByName.get(event.eventType.slice(prefix.length))
    : undefined;
  if (action === undefined) {
    throw new CorruptHistoryError(
      `event ${event.eventType} at version ${version} of "${event.originatorId}" is not a change of a ${entityType} document`,
    );
  }
  const encoding: ChangeEncoding =
    action === "updated" && event.metadata[encodingKey] !== "document" ? "merge-patch" : "document";
  return { version, action, change: { payload: event.payload, encoding } };
}

/** The entity type of an event (everything before the last dot of its event type). */
export function entityTypeOfEvent(event: StoredEvent): string {
  return splitEventType(event.eventType).entityType;
}
