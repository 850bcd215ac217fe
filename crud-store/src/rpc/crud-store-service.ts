import { setMaxListeners } from "node:events";
import { create } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  Action,
  type CrudStoreService,
  CreateResponseSchema,
  DeleteResponseSchema,
  GetResponseSchema,
  GetTypeResponseSchema,
  HistoryResponseSchema,
  ListResponseSchema,
  ListTypesResponseSchema,
  RegisterTypeResponseSchema,
  UpdateResponseSchema,
  UpdateTypeResponseSchema,
} from "@eskit/gen/eskit/crudstore/v1/crud_store_pb.js";
import { serializeDocument } from "../domain/json-document.js";
import type { CrudAction } from "../domain/replay.js";
import type { EventStoreGateway } from "../gateway/event-store-gateway.js";
import type { TypeRegistry } from "../registry/type-registry.js";
import type { DocumentStore } from "../store/documents.js";
import type { CallScope } from "../store/event-store-port.js";
import { revisionHistory } from "../store/revision-history.js";
import type { StateReader } from "../store/state-reader.js";
import { required, specOf, toSpecMessage } from "./message-convert.js";

/** What the service needs: the document store, the registry, and the reads they share. */
export interface CrudStoreDeps {
  readonly gateway: EventStoreGateway;
  readonly documents: DocumentStore;
  readonly states: StateReader;
  readonly registry: TypeRegistry;
}

const actions: Record<CrudAction, Action> = {
  created: Action.CREATED,
  updated: Action.UPDATED,
  deleted: Action.DELETED,
};

/** The RPC edge: protobuf in, protobuf out; the work is done by the store and the registry. */
export function crudStoreService(deps: CrudStoreDeps): ServiceImpl<typeof CrudStoreService> {
  const { documents, registry } = deps;
  return {
    async create(request, ctx) {
      const o = request.originator;
      const ref = await documents.create(
        request.entityType,
        o?.id ?? "",
        o?.version ?? 0n,
        request.payload,
        scopeOf(ctx),
      );
      return create(CreateResponseSchema, { originator: ref });
    },

    async update(request, ctx) {
      const o = required(request.originator, "originator");
      const ref = await documents.update(request.entityType, o.id, o.version, request.payload, scopeOf(ctx));
      return create(UpdateResponseSchema, { originator: ref });
    },

    async delete(request, ctx) {
      const o = required(request.originator, "originator");
      const ref = await documents.delete(request.entityType, o.id, o.version, scopeOf(ctx));
      return create(DeleteResponseSchema, { originator: ref });
    },

    async get(request, ctx) {
      const o = required(request.originator, "originator");
      const doc = await documents.get(request.entityType, o.id, o.version, request.deleted, scopeOf(ctx));
      return create(GetResponseSchema, {
        originator: { id: doc.id, version: doc.version },
        payload: serializeDocument(doc.document),
      });
    },

    async list(request, ctx) {
      const page = await documents.list(request, scopeOf(ctx));
      return create(ListResponseSchema, {
        results: page.documents.map((d) => ({
          entityType: request.entityType,
          originator: { id: d.id, version: d.version },
          payload: d.document === undefined ? "" : serializeDocument(d.document),
        })),
        nextPageToken: page.nextPageToken,
      });
    },

    async history(request, ctx) {
      const page = await revisionHistory(
        deps.states,
        {
          entityType: request.entityType,
          id: request.originatorId,
          pageToken: request.pageToken,
          limit: request.limit,
        },
        scopeOf(ctx),
      );
      return create(HistoryResponseSchema, {
        revisions: page.revisions.map((r) => ({
          version: r.version,
          action: actions[r.action],
          occurredOn: r.occurredOn,
          payload: serializeDocument(r.state.document),
        })),
        nextPageToken: page.nextPageToken,
      });
    },

    async registerType(request, ctx) {
      await registry.register(specOf(request.spec), request.skipDuplicate, scopeOf(ctx));
      return create(RegisterTypeResponseSchema);
    },

    async getType(request, ctx) {
      const spec = await registry.get(request.entityType, scopeOf(ctx));
      return create(GetTypeResponseSchema, { spec: toSpecMessage(spec) });
    },

    async updateType(request, ctx) {
      await registry.update(specOf(request.spec), scopeOf(ctx));
      return create(UpdateTypeResponseSchema);
    },

    async listTypes(request, ctx) {
      const page = await registry.list(request.limit, request.pageToken, scopeOf(ctx));
      return create(ListTypesResponseSchema, {
        results: page.specs.map(toSpecMessage),
        nextPageToken: page.nextPageToken,
      });
    },
  };
}

/** The caller's cancellation and remaining deadline, handed down to every Event Store call. */
export function scopeOf(ctx: HandlerContext): CallScope {
  // A List page reads many documents at once, each call listening to this signal: that is not a leak.
  setMaxListeners(200, ctx.signal);
  return { signal: ctx.signal, timeoutMs: ctx.timeoutMs() };
}
