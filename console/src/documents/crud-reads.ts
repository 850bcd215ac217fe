import { Code, ConnectError } from "@eskit/client";
import type { Clients } from "../connection/clients.js";

type Crud = Clients["crud"];

/** A document as the Documents page shows it: one version of it, and whether it is deleted as of that version. */
export interface DocumentState {
  readonly version: bigint;
  readonly document: Record<string, unknown>;
  /** True at the version of its deletion: `document` is then its last state. */
  readonly deleted: boolean;
}

/** A type's schema, or undefined for a type that is not registered (whose documents may be any object). */
export interface TypeSchema {
  readonly schemaVersion: bigint;
  /** `""` when the type's documents are not validated. */
  readonly jsonSchema: string;
}

// The Crud Store sends documents as the JSON text of an object.
const parseDocument = (payload: string) => JSON.parse(payload === "" ? "{}" : payload) as Record<string, unknown>;

const isNotFound = (error: unknown) => ConnectError.from(error).code === Code.NotFound;

/**
 * A document's latest version. Get answers a deleted document only when asked for one, and says nothing of the
 * deletion, so a `not_found` is asked again with `deleted: true`: an answer then means the document is deleted, a
 * second `not_found` that it never existed.
 */
export async function readLatest(
  crud: Crud,
  entityType: string,
  id: string,
  signal: AbortSignal,
): Promise<DocumentState> {
  try {
    const live = await crud.get({ entityType, originator: { id } }, { signal });
    return { version: live.originator?.version ?? 0n, document: parseDocument(live.payload), deleted: false };
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  const deleted = await crud.get({ entityType, originator: { id }, deleted: true }, { signal });
  return { version: deleted.originator?.version ?? 0n, document: parseDocument(deleted.payload), deleted: true };
}

/** A document as it was right after `version`, deleted or not (`deleted` is left to the caller, who knows the latest). */
export async function readVersion(
  crud: Crud,
  entityType: string,
  id: string,
  version: bigint,
  signal: AbortSignal,
): Promise<Omit<DocumentState, "deleted">> {
  const answer = await crud.get({ entityType, originator: { id, version }, deleted: true }, { signal });
  return { version: answer.originator?.version ?? version, document: parseDocument(answer.payload) };
}

/** A type's latest schema; undefined when the type is not registered. */
export async function readTypeSchema(
  crud: Crud,
  entityType: string,
  signal: AbortSignal,
): Promise<TypeSchema | undefined> {
  try {
    const answer = await crud.getType({ entityType }, { signal });
    return {
      schemaVersion: answer.spec?.schemaSpec?.schemaVersion ?? 0n,
      jsonSchema: answer.spec?.schemaSpec?.jsonSchema ?? "",
    };
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}
