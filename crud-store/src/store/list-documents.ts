import { ValidationError } from "../domain/errors.js";
import type { JsonObject } from "../domain/json-document.js";
import { checkEntityType } from "../domain/names.js";
import type { CallScope, EventStoreGateway } from "../gateway/event-store-gateway.js";
import { decodePageToken, encodePageToken } from "./page-token.js";
import type { StateReader } from "./state-reader.js";

const defaultLimit = 10;
const maxLimit = 1000;
/** Documents of one page read at once: enough to hide the round trips, few enough not to flood the Event Store. */
const readConcurrency = 16;

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
 * document is then read at exactly that version, so a page is consistent with itself even while writers go on.
 */
export async function listDocuments(
  gateway: EventStoreGateway,
  states: StateReader,
  request: { entityType: string; pageToken: string; limit: number; skipPayload: boolean },
  scope: CallScope,
): Promise<{ documents: ListedDocument[]; nextPageToken: string }> {
  checkEntityType(request.entityType);
  if (request.limit > maxLimit) throw new ValidationError(`limit is ${request.limit}: at most ${maxLimit}`);
  const afterId = decodePageToken("list", request.pageToken);
  const limit = request.limit === 0 ? defaultLimit : request.limit;
  const page = await gateway.listOriginators(request.entityType, afterId, limit, "Deleted", scope);
  const documents = await mapConcurrently(page.originators, readConcurrency, async (o): Promise<ListedDocument> => {
    if (request.skipPayload) return { id: o.id, version: o.version, document: undefined };
    const state = await states.read(request.entityType, o.id, o.version, scope);
    return { id: o.id, version: o.version, document: state.document };
  });
  return { documents, nextPageToken: page.nextAfterId === "" ? "" : encodePageToken("list", page.nextAfterId) };
}

/** `fn` over `items` with at most `concurrency` calls at once; results in the order of `items`. */
export async function mapConcurrently<T, R>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}
