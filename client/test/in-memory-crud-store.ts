/**
 * A CrudStoreService kept in memory, for the client's unit tests: enough of the real store's behaviour (versions,
 * optimistic concurrency, deletion, paging by token) to run the typed client against, and a record of every
 * request so tests can check exactly what the client sent.
 */
import { create, type Message } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createRouterTransport, type ServiceImpl, type Transport } from "@connectrpc/connect";
import {
  Action,
  CrudEntitySpecSchema,
  CrudStoreService,
  RevisionSchema,
  type CrudEntitySpec,
  type Revision,
} from "@eskit/gen/eskit/crudstore/v1/crud_store_pb.js";

/** The time of the n-th change (n from 1), so tests know every `occurred_on` in advance. */
export function changeTime(n: number): Date {
  return new Date(Date.UTC(2024, 0, 1, 12, 0, n, n));
}

export interface InMemoryCrudStore {
  /** Every request in arrival order, with the name of its method. */
  readonly requests: Array<{ method: string; request: Message; headers: Headers; timeoutMs: number | undefined }>;
  /** Requests of one method, typed by the caller. */
  requestsOf<T extends Message>(method: keyof ServiceImpl<typeof CrudStoreService>): T[];
  /** A router transport serving this store; `overrides` replace single methods (to inject errors). */
  transport(overrides?: Partial<ServiceImpl<typeof CrudStoreService>>): Transport;
}

export function inMemoryCrudStore(): InMemoryCrudStore {
  const documents = new Map<string, Revision[]>();
  const types = new Map<string, CrudEntitySpec>();
  const requests: InMemoryCrudStore["requests"] = [];
  let changes = 0;
  let generated = 0;
  const keyOf = (entityType: string, id: string) => `${entityType}\u0000${id}`;

  function revisions(entityType: string, id: string, deleted = false): Revision[] {
    const revs = documents.get(keyOf(entityType, id));
    if (revs === undefined || (!deleted && revs.at(-1)?.action === Action.DELETED)) {
      throw new ConnectError(`${entityType} ${id} not found`, Code.NotFound);
    }
    return revs;
  }

  function append(revs: Revision[], action: Action, payload: string): bigint {
    const version = BigInt(revs.length + 1);
    revs.push(
      create(RevisionSchema, { version, action, payload, occurredOn: timestampFromDate(changeTime(++changes)) }),
    );
    return version;
  }

  function checkLatest(revs: Revision[], version: bigint): void {
    const latest = BigInt(revs.length);
    if (version !== latest) {
      throw new ConnectError(`version ${version} is not the latest (${latest})`, Code.Aborted);
    }
  }

  const impl: ServiceImpl<typeof CrudStoreService> = {
    create(req) {
      const id = req.originator?.id || `generated-${++generated}`;
      if (documents.has(keyOf(req.entityType, id))) {
        throw new ConnectError(`${req.entityType} ${id} already exists`, Code.AlreadyExists);
      }
      const revs: Revision[] = [];
      documents.set(keyOf(req.entityType, id), revs);
      return { originator: { id, version: append(revs, Action.CREATED, req.payload) } };
    },
    update(req) {
      const id = req.originator?.id ?? "";
      const revs = revisions(req.entityType, id);
      checkLatest(revs, req.originator?.version ?? 0n);
      return { originator: { id, version: append(revs, Action.UPDATED, req.payload) } };
    },
    delete(req) {
      const id = req.originator?.id ?? "";
      const revs = revisions(req.entityType, id);
      if ((req.originator?.version ?? 0n) !== 0n) checkLatest(revs, req.originator?.version ?? 0n);
      return { originator: { id, version: append(revs, Action.DELETED, revs.at(-1)?.payload ?? "{}") } };
    },
    get(req) {
      const id = req.originator?.id ?? "";
      const revs = revisions(req.entityType, id, req.deleted);
      const version = req.originator?.version || BigInt(revs.length);
      const rev = revs[Number(version) - 1];
      if (rev === undefined) throw new ConnectError(`${id} has no version ${version}`, Code.NotFound);
      return { originator: { id, version }, payload: rev.payload };
    },
    list(req) {
      const prefix = keyOf(req.entityType, "");
      const live = [...documents.entries()]
        .filter(([key, revs]) => key.startsWith(prefix) && revs.at(-1)?.action !== Action.DELETED)
        .map(([key, revs]) => ({ id: key.slice(prefix.length), revs }))
        .sort((a, b) => (a.id < b.id ? -1 : 1))
        .filter((d) => req.pageToken === "" || d.id > req.pageToken);
      const page = live.slice(0, req.limit || 10);
      return {
        results: page.map((d) => ({
          entityType: req.entityType,
          originator: { id: d.id, version: BigInt(d.revs.length) },
          payload: req.skipPayload ? "" : (d.revs.at(-1)?.payload ?? ""),
        })),
        nextPageToken: live.length > page.length ? (page.at(-1)?.id ?? "") : "",
      };
    },
    history(req) {
      const revs = revisions(req.entityType, req.originatorId, true);
      const from = Number(req.pageToken || "0");
      const to = from + (req.limit || 10);
      return { revisions: revs.slice(from, to), nextPageToken: to < revs.length ? String(to) : "" };
    },
    registerType(req) {
      const name = req.spec?.entityType ?? "";
      if (types.has(name)) {
        if (req.skipDuplicate) return {};
        throw new ConnectError(`${name} already registered`, Code.AlreadyExists);
      }
      types.set(name, create(CrudEntitySpecSchema, req.spec));
      return {};
    },
    getType(req) {
      const spec = types.get(req.entityType);
      if (spec === undefined) throw new ConnectError(`${req.entityType} not registered`, Code.NotFound);
      return { spec };
    },
    updateType(req) {
      const name = req.spec?.entityType ?? "";
      const current = types.get(name);
      if (current === undefined) throw new ConnectError(`${name} not registered`, Code.NotFound);
      if ((req.spec?.schemaSpec?.schemaVersion ?? 0n) <= (current.schemaSpec?.schemaVersion ?? 0n)) {
        throw new ConnectError("schema_version must increase", Code.FailedPrecondition);
      }
      types.set(name, create(CrudEntitySpecSchema, req.spec));
      return {};
    },
    listTypes(req) {
      const all = [...types.values()].sort((a, b) => (a.entityType < b.entityType ? -1 : 1));
      const rest = all.filter((t) => req.pageToken === "" || t.entityType > req.pageToken);
      const page = rest.slice(0, req.limit || 100);
      return { results: page, nextPageToken: rest.length > page.length ? (page.at(-1)?.entityType ?? "") : "" };
    },
  };

  return {
    requests,
    requestsOf: <T extends Message>(method: string) =>
      requests.filter((r) => r.method === method).map((r) => r.request as T),
    transport(overrides = {}) {
      const served = { ...impl, ...overrides } as unknown as Record<string, (req: Message, ctx: unknown) => unknown>;
      const recording = Object.fromEntries(
        Object.entries(served).map(([method, handler]) => [
          method,
          (request: Message, ctx: { requestHeader: Headers; timeoutMs(): number | undefined }) => {
            requests.push({ method, request, headers: new Headers(ctx.requestHeader), timeoutMs: ctx.timeoutMs() });
            return handler(request, ctx);
          },
        ]),
      ) as unknown as ServiceImpl<typeof CrudStoreService>;
      return createRouterTransport(({ service }) => service(CrudStoreService, recording));
    },
  };
}
