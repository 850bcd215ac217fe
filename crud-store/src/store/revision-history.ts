import { NotFoundError, ValidationError } from "../domain/errors.js";
import { checkDocumentId, checkEntityType } from "../domain/names.js";
import { type CrudAction, type DocumentState, revisions } from "../domain/replay.js";
import type { CallScope, Instant } from "./event-store-port.js";
import { decodePageToken, encodePageToken } from "./page-token.js";
import type { StateReader } from "./state-reader.js";

const defaultLimit = 10;
const maxLimit = 1000;

/** One revision of a document: what happened at a version, when, and the state right after it. */
export interface Revision {
  readonly version: bigint;
  readonly action: CrudAction;
  readonly occurredOn: Instant | undefined;
  readonly state: DocumentState;
}

/**
 * A page of a document's revisions, oldest first (the audit trail; deleted documents keep theirs). A page starts from
 * the latest snapshot before it, so a late page costs no more than an early one.
 */
export async function revisionHistory(
  states: StateReader,
  request: { entityType: string; id: string; pageToken: string; limit: number },
  scope: CallScope,
): Promise<{ revisions: Revision[]; nextPageToken: string }> {
  checkEntityType(request.entityType);
  checkDocumentId(request.id, "originator_id");
  if (request.limit > maxLimit) throw new ValidationError(`limit is ${request.limit}: at most ${maxLimit}`);
  const limit = BigInt(request.limit === 0 ? defaultLimit : request.limit);
  const after = parseVersion(decodePageToken("history", request.pageToken));
  // One revision more than the page tells whether another page follows.
  const range = await states.range(request.entityType, request.id, after, after + limit + 1n, scope);
  if (range.start === undefined && range.changes.length === 0) {
    throw new NotFoundError(`no ${request.entityType} with id "${request.id}"`);
  }
  const page: Revision[] = [];
  let more = false;
  for (const { version, action, state } of revisions(range.start, range.changes)) {
    if (version <= after) continue;
    if (version > after + limit) {
      more = true;
      break;
    }
    page.push({ version, action, occurredOn: range.occurredOn.get(version), state });
  }
  const last = page.at(-1);
  return { revisions: page, nextPageToken: more && last ? encodePageToken("history", String(last.version)) : "" };
}

function parseVersion(position: string): bigint {
  if (position === "") return 0n;
  if (!/^[0-9]{1,19}$/.test(position)) throw new ValidationError("page_token is not a token returned by History");
  return BigInt(position);
}
