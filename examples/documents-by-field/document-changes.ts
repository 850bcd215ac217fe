/**
 * How the Crud Store's events change a document, read from the Application Log alone. Every change of a document of
 * type T is an event of its originator (the document's id, version = the document's version):
 *
 * - `T.Created`: the payload is the whole document (version 1);
 * - `T.Updated`: the payload is an RFC 7396 JSON merge patch from the previous version, unless the event's metadata
 *   says `eskit.encoding: document`, when it is the whole new document (the Crud Store stores the document when a
 *   patch would be longer, or cannot express the change, such as a field set to null);
 * - `T.Deleted`: the payload is `{}`; the document is gone for good (its id is never created again).
 *
 * The Crud Store keeps a patch only after checking that json-merge-patch's `apply`, run on a copy of the previous
 * document, gives back exactly the new one; applying it here the same way reproduces the document it saved.
 */
import { apply } from "json-merge-patch";
import type { AppLogEntry } from "@eskit/client";
import type { CustomerRow, JsonObject } from "./customers-table.js";

/** The metadata key of an Updated event's encoding, and the value that means "the whole document". */
const encodingKey = "eskit.encoding";
const wholeDocument = "document";

/** What a batch of entries leaves for the documents it touched: each one's latest state, or deleted. */
export interface BatchOutcome {
  /** Documents alive after the batch, at their latest version. */
  readonly live: CustomerRow[];
  /** Ids deleted by the batch. */
  readonly deleted: string[];
}

/**
 * An entry that does not follow from what the read model holds: a version that is not the next one, an update of a
 * document it does not have, an event the Crud Store does not write. Applying it would leave the read model wrong, so
 * the projection stops there (nothing of the batch is committed) and says which entry and why.
 */
export class UnexpectedChangeError extends Error {
  override readonly name = "UnexpectedChangeError";
}

/**
 * Folds `entries` (in log order, all of entity type `entityType`) over the documents they touch: `before` holds
 * those the read model has now (the others are new). Versions must follow each other from what `before` holds: an
 * entry applied twice, or one skipped, throws instead of being absorbed.
 */
export function foldChanges(
  entityType: string,
  entries: readonly AppLogEntry[],
  before: ReadonlyMap<string, CustomerRow>,
): BatchOutcome {
  // undefined: not in the read model; null: deleted by this batch.
  const states = new Map<string, CustomerRow | null | undefined>(before);
  for (const entry of entries) {
    const event = entry.event;
    const id = event?.originator?.id;
    const version = event?.originator?.version;
    if (event === undefined || id === undefined || version === undefined) {
      throw new UnexpectedChangeError(`log entry ${entry.id} has no event`);
    }
    const where = `log entry ${entry.id} (${event.eventType} of "${id}" at version ${version})`;
    const previous = states.get(id);
    if (previous === null) throw new UnexpectedChangeError(`${where}: the document was deleted before`);
    const expected = previous === undefined ? 1n : previous.version + 1n;
    if (version !== expected) {
      throw new UnexpectedChangeError(`${where}: the read model is at version ${expected - 1n}, expected ${expected}`);
    }
    switch (actionOf(entityType, event.eventType)) {
      case "Created":
        states.set(id, { id, version, document: parseObject(event.payload, where) });
        break;
      case "Updated": {
        if (previous === undefined) throw new UnexpectedChangeError(`${where}: an update of an unknown document`);
        const document =
          event.metadata[encodingKey] === wholeDocument
            ? parseObject(event.payload, where)
            : applyPatch(previous.document, event.payload, where);
        states.set(id, { id, version, document });
        break;
      }
      case "Deleted":
        if (previous === undefined) throw new UnexpectedChangeError(`${where}: a deletion of an unknown document`);
        states.set(id, null);
        break;
      default:
        throw new UnexpectedChangeError(`${where}: not an event the Crud Store writes for ${entityType}`);
    }
  }
  const live: CustomerRow[] = [];
  const deleted: string[] = [];
  for (const [id, state] of states) {
    if (state === null) deleted.push(id);
    else if (state !== undefined && state !== before.get(id)) live.push(state);
  }
  return { live, deleted };
}

/** The action of an event of `entityType` (`acme.Customer.Updated` → `Updated`), or undefined for another type. */
function actionOf(entityType: string, eventType: string): string | undefined {
  const prefix = `${entityType}.`;
  return eventType.startsWith(prefix) ? eventType.slice(prefix.length) : undefined;
}

function parseObject(payload: string, where: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch (error) {
    throw new UnexpectedChangeError(`${where}: the payload is not JSON (${(error as Error).message})`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new UnexpectedChangeError(`${where}: the payload is not a JSON object`);
  }
  return value as JsonObject;
}

/** Applies a merge patch to a copy of `document` (json-merge-patch's `apply` changes its target in place). */
function applyPatch(document: JsonObject, payload: string, where: string): JsonObject {
  const patch = parseObject(payload, where);
  const result: unknown = apply(structuredClone(document), patch);
  if (typeof result !== "object" || result === null || Array.isArray(result)) {
    throw new UnexpectedChangeError(`${where}: the merge patch does not lead to a JSON object`);
  }
  return result as JsonObject;
}
