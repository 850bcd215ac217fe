import { ValidationError } from "../domain/errors.js";
import type { JsonObject } from "../domain/json-document.js";
import { checkEntityType } from "../domain/names.js";
import type { CallScope, EventStorePort } from "./event-store-port.js";
import { decodePageToken, encodePageToken } from "./page-token.js";
import type { RecentStates } from "./recent-states.js";
import type { StateReader } from "./state-reader.js";

const defaultLimit = 10;
const maxLimit = 1000;

/** One document of a List page. */
export interface ListedDocument {
  readonly id: string;
  readonly version: bigint;
  /** Undefined when the caller skipped payloads. */
  readonly document: JsonObject | undefined;
}

/**
 * A page of the live documents of a type, in id order. The Event Store lists the type's originators (from an index of
 * first events, whose cost grows with neither the histories nor other types) with the version each is at; each
 * document is then read at exactly that version, so a page is consistent with itself even while writers go on: from
 * `recent` (the states this Crud Store wrote or read last) when it holds that version, else from the Event Store.
 */
export async function listDocuments(
  eventStore: EventStorePort,
  states: StateReader,
  request: { entityType: string; pageToken: string; limit: number; skipPayload: boolean },
  scope: CallScope,
  recent?: Pick<RecentStates, "get">,
): Promise<{ documents: ListedDocument[]; nextPageToken: string }> {
  checkEntityType(request.entityType);
  if (request.limit > maxLimit) throw new ValidationError(`limit is ${request.limit}: at most ${maxLimit}`);
  const afterId = decodePageToken("list", request.pageToken);
  const limit = request.limit === 0 ? defaultLimit : request.limit;
  const page = await eventStore.listOriginators(request.entityType, afterId, limit, "Deleted", scope);
  const refs = page.originators.map((o) => ({ id: o.id, version: o.version }));
  const read = request.skipPayload ? undefined : await readAt(states, recent, request.entityType, refs, scope);
  const documents = refs.map((ref, i): ListedDocument => ({ ...ref, document: read?.[i] }));
  return { documents, nextPageToken: page.nextAfterId === "" ? "" : encodePageToken("list", page.nextAfterId) };
}

/**
 * Each document at exactly its listed version: from `recent` when it holds that very version (a state is true of its
 * version forever), the others from the Event Store in one batch.
 */
async function readAt(
  states: StateReader,
  recent: Pick<RecentStates, "get"> | undefined,
  entityType: string,
  refs: readonly { id: string; version: bigint }[],
  scope: CallScope,
): Promise<JsonObject[]> {
  const documents = new Array<JsonObject>(refs.length);
  const unknown: number[] = [];
  refs.forEach((ref, i) => {
    const state = recent?.get(entityType, ref.id);
    if (state !== undefined && state.version === ref.version && !state.deleted) documents[i] = state.document;
    else unknown.push(i);
  });
  if (unknown.length === 0) return documents;
  const read = await states.readMany(
    entityType,
    unknown.map((i) => refs[i]!),
    scope,
  );
  unknown.forEach((i, k) => (documents[i] = read[k]!.document));
  return documents;
}
