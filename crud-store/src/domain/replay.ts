import { applyChange, type EncodedChange } from "./changes.js";
import { CorruptHistoryError } from "./errors.js";
import type { JsonObject } from "./json-document.js";

/** What each event of a document's history did. */
export type CrudAction = "created" | "updated" | "deleted";

/**
 * One event of a document's history, as read back from the Event Store. For "created" the change is the whole
 * document; for "deleted" its payload is ignored.
 */
export interface StoredChange {
  readonly version: bigint;
  readonly action: CrudAction;
  readonly change: EncodedChange;
}

/**
 * A document at one version. A deleted document keeps its last content, so History can still show what was
 * deleted; `deleted` is final.
 */
export interface DocumentState {
  readonly version: bigint;
  readonly document: JsonObject;
  readonly deleted: boolean;
}

/** One step of a history: the event's version and action and the state it led to. */
export interface Revision {
  readonly version: bigint;
  readonly action: CrudAction;
  readonly state: DocumentState;
}

/**
 * Folds a history into the document's latest state, starting from a snapshot (`start`) or from nothing. Returns
 * `undefined` only when there is nothing at all. Throws CorruptHistoryError on a history the Crud Store cannot
 * have written, rather than guessing a document from it.
 */
export function replay(start: DocumentState | undefined, changes: Iterable<StoredChange>): DocumentState | undefined {
  let state = start;
  for (const revision of revisions(start, changes)) state = revision.state;
  return state;
}

/**
 * The same fold as `replay`, yielding the state after every event: the pages of a document's History. Lazy, so a
 * caller that stops early stops the work too.
 */
export function* revisions(start: DocumentState | undefined, changes: Iterable<StoredChange>): Generator<Revision> {
  let state = start;
  for (const { version, action, change } of changes) {
    const expected = state === undefined ? 1n : state.version + 1n;
    if (version !== expected) {
      throw new CorruptHistoryError(`history has version ${version} where version ${expected} was expected`);
    }
    state = next(state, version, action, change);
    yield { version, action, state };
  }
}

function next(
  state: DocumentState | undefined,
  version: bigint,
  action: CrudAction,
  change: EncodedChange,
): DocumentState {
  if (state?.deleted) {
    throw new CorruptHistoryError(`history has "${action}" at version ${version}, after the deletion`);
  }
  if (action === "created") {
    if (state !== undefined) throw new CorruptHistoryError(`history has "created" at version ${version}, not 1`);
    if (change.encoding !== "document") {
      throw new CorruptHistoryError(`history has "created" with a ${change.encoding}, not a document`);
    }
    return { version, document: applyChange({}, change), deleted: false };
  }
  if (state === undefined) {
    throw new CorruptHistoryError(`history has "${action}" at version ${version} before "created"`);
  }
  switch (action) {
    case "updated":
      return { version, document: applyChange(state.document, change), deleted: false };
    case "deleted":
      return { version, document: state.document, deleted: true };
    default:
      throw new CorruptHistoryError(`history has the unknown action ${JSON.stringify(action)} at version ${version}`);
  }
}
