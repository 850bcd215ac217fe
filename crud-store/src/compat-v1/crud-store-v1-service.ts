import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import type { Originator } from "@eskit/gen/contracts/common/originator_pb.js";
import {
  CreateResponseSchema,
  type CrudStoreService,
  DeleteResponseSchema,
  GetResponseSchema,
  GetTypeResponseSchema,
  HealthResponseSchema,
  ListResponseSchema,
  ListTypesResponseSchema,
  RegisterTypeResponseSchema,
  UpdateResponseSchema,
  UpdateTypeResponseSchema,
} from "@eskit/gen/contracts/crudstore/service_pb.js";
import { ConcurrencyError } from "../domain/errors.js";
import { serializeDocument } from "../domain/json-document.js";
import { type CrudStoreDeps, scopeOf } from "../rpc/crud-store-service.js";
import type { DocumentRef } from "../store/documents.js";
import type { CallScope } from "../store/event-store-port.js";
import { v1Call } from "./v1-errors.js";
import { listTypesV1 } from "./v1-list-types.js";
import { formatV1Version, parseV1Version } from "./v1-version.js";
import { required, specOf, toSpecMessage } from "../rpc/message-convert.js";

/** The largest List page of our core; v1 clients asking for more get this many and a next_page_id. */
const maxListLimit = 1000;

/** How often an Update without a version re-reads the latest when a concurrent writer took the version it read. */
const unguardedUpdateAttempts = 3;

/**
 * The original ESKIT v1 `contracts.crudstore.CrudStoreService`, served beside ours on the same port and mapped onto
 * the same core (document store, List, type registry): only the messages differ. Versions travel as decimal strings;
 * a stale version is `already_exists`, as v1 answered it (see v1-errors.ts).
 */
export function crudStoreV1Service(deps: CrudStoreDeps): ServiceImpl<typeof CrudStoreService> {
  const { documents, registry } = deps;
  return {
    async healtz() {
      if (!(await deps.gateway.ping())) throw new ConnectError("the Event Store is unreachable", Code.Unavailable);
      return create(HealthResponseSchema, { message: "OK" });
    },

    // No version means version 1, as in v1; an id is optional (a UUID is made, as ours).
    create: (request, ctx) =>
      v1Call(async () => {
        const o = request.originator;
        const ref = await documents.create(
          request.entityType,
          o?.id ?? "",
          parseV1Version(o?.version ?? ""),
          request.payload,
          scopeOf(ctx),
        );
        return create(CreateResponseSchema, { originator: toOriginator(ref) });
      }),

    update: (request, ctx) =>
      v1Call(async () => {
        const o = required(request.originator, "originator");
        const version = parseV1Version(o.version);
        const scope = scopeOf(ctx);
        const ref =
          version === 0n
            ? await updateLatest(deps, request.entityType, o.id, request.payload, scope)
            : await documents.update(request.entityType, o.id, version, request.payload, scope);
        return create(UpdateResponseSchema, { originator: toOriginator(ref) });
      }),

    // The version is optional: with one, the delete happens only if it is still the latest.
    delete: (request, ctx) =>
      v1Call(async () => {
        const o = required(request.originator, "originator");
        const ref = await documents.delete(request.entityType, o.id, parseV1Version(o.version), scopeOf(ctx));
        return create(DeleteResponseSchema, { originator: toOriginator(ref) });
      }),

    // The payload is the stored document as it is: nothing added, so a v1 client can send it back as it got it.
    get: (request, ctx) =>
      v1Call(async () => {
        const o = required(request.originator, "originator");
        const version = parseV1Version(o.version);
        const doc = await documents.get(request.entityType, o.id, version, request.deleted, scopeOf(ctx));
        return create(GetResponseSchema, {
          originator: toOriginator(doc),
          payload: serializeDocument(doc.document),
        });
      }),

    // pagination_id and next_page_id are our page tokens, passed through as the opaque strings they are.
    list: (request, ctx) =>
      v1Call(async () => {
        const page = await deps.documents.list(
          {
            entityType: request.entityType,
            pageToken: request.paginationId,
            limit: Math.min(request.limit, maxListLimit),
            skipPayload: request.skipPayload,
          },
          scopeOf(ctx),
        );
        return create(ListResponseSchema, {
          results: page.documents.map((d) => ({
            entityType: request.entityType,
            originator: toOriginator(d),
            payload: d.document === undefined ? "" : serializeDocument(d.document),
          })),
          nextPageId: page.nextPageToken,
        });
      }),

    registerType: (request, ctx) =>
      v1Call(async () => {
        await registry.register(specOf(request.spec), request.skipDuplicate, scopeOf(ctx));
        return create(RegisterTypeResponseSchema);
      }),

    getType: (request, ctx) =>
      v1Call(async () => {
        const spec = await registry.get(request.entityType, scopeOf(ctx));
        return create(GetTypeResponseSchema, { spec: toSpecMessage(spec) });
      }),

    updateType: (request, ctx) =>
      v1Call(async () => {
        await registry.update(specOf(request.spec), scopeOf(ctx));
        return create(UpdateTypeResponseSchema);
      }),

    listTypes: (request, ctx) =>
      v1Call(async () => {
        const specs = await listTypesV1(registry, request.limit, scopeOf(ctx));
        return create(ListTypesResponseSchema, { results: specs.map(toSpecMessage) });
      }),
  };
}

/**
 * An Update without a version, as original v1 clients send it (the id only): it updates the latest version, i.e. the
 * last writer wins, as v1 did. The latest version is read, then written through the ordinary guarded update; when a
 * concurrent writer takes that version in between, the latest is read again (a few times, then `already_exists`),
 * so the caller never sees a conflict it did not ask to be guarded against unless the document is hotly contended.
 */
async function updateLatest(
  deps: CrudStoreDeps,
  entityType: string,
  id: string,
  payload: string,
  scope: CallScope,
): Promise<DocumentRef> {
  for (let attempt = 1; ; attempt++) {
    const latest = await deps.documents.get(entityType, id, 0n, false, scope);
    try {
      return await deps.documents.update(entityType, id, latest.version, payload, scope);
    } catch (error) {
      if (!(error instanceof ConcurrencyError) || attempt >= unguardedUpdateAttempts) throw error;
    }
  }
}

function toOriginator(ref: DocumentRef): Pick<Originator, "id" | "version"> {
  return { id: ref.id, version: formatV1Version(ref.version) };
}
