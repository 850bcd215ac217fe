import { clone, create, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, type CallOptions, type Client, type Transport } from "@connectrpc/connect";
import { CrudStoreService, type CrudEntitySpec } from "@eskit/gen/eskit/crudstore/v1/crud_store_pb.js";
import { OriginatorSchema, type Originator } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import type {
  CreateOptions,
  CrudClientOptions,
  CrudPage,
  CrudRevision,
  GetOptions,
  HistoryOptions,
  ListOptions,
  ListPageOptions,
  OriginatorRef,
  UpdateOptions,
} from "./crud-client-options.js";
import { decodeDocument, encodeDocument, type CrudDocument, type DocumentJsonOptions } from "./crud-document.js";
import * as types from "./crud-type-registry.js";
import { originatorFieldOf, type IdVersion } from "./originator-field.js";
import { followPageTokens, limitOf } from "./page-tokens.js";

/**
 * A Crud Store client that speaks the application's own protobuf messages instead of JSON text. The entity type
 * is the message's full name (`acme.users.v1.User`); documents are stored with the proto3 JSON mapping; a field
 * named `originator` (recommended type: `eskit.eventstore.v1.Originator`, or any message with `string id` and a
 * 64-bit `version`) carries the id and version and never goes into the stored JSON. Methods never change the
 * messages passed in: they return copies.
 *
 * Server errors reject as the `ConnectError` the server sent (`not_found`, `aborted` for a stale version, ...);
 * misuse found before any call (an update without a version, a malformed `originator` field) rejects with
 * `invalid_argument`.
 */
export interface CrudClient {
  /** The generated client (every RPC, JSON text in and out), for what the typed methods do not cover. */
  readonly service: Client<typeof CrudStoreService>;
  /** Stores a new document at version 1; its id is the message's `originator.id`, `options.id`, or generated. */
  create<Desc extends DescMessage>(
    schema: Desc,
    message: MessageShape<Desc>,
    options?: CreateOptions,
  ): Promise<CrudDocument<MessageShape<Desc>>>;
  /** Reads a document: the latest revision, or the one at the ref's version or `options.version`. */
  get<Desc extends DescMessage>(
    schema: Desc,
    ref: OriginatorRef,
    options?: GetOptions,
  ): Promise<CrudDocument<MessageShape<Desc>>>;
  /** Replaces a document, if the version in its `originator` (or `options.originator`) is still the latest. */
  update<Desc extends DescMessage>(
    schema: Desc,
    message: MessageShape<Desc>,
    options?: UpdateOptions,
  ): Promise<CrudDocument<MessageShape<Desc>>>;
  /**
   * Deletes a document (its history stays readable) and resolves to the version of its Deleted revision. With a
   * version in the ref, only if that is still the latest.
   */
  delete(schema: DescMessage, ref: OriginatorRef, options?: CallOptions): Promise<Originator>;
  /** One page of the live documents of a type, in id order, for callers that page themselves (a UI). */
  listPage<Desc extends DescMessage>(schema: Desc, options?: ListPageOptions): Promise<CrudPage<MessageShape<Desc>>>;
  /** Every live document of a type, in id order, requesting the next page only as the loop goes on. */
  list<Desc extends DescMessage>(
    schema: Desc,
    options?: ListOptions,
  ): AsyncGenerator<CrudDocument<MessageShape<Desc>>, void, undefined>;
  /** Every revision of a document, oldest first; a version in the ref is ignored. */
  history<Desc extends DescMessage>(
    schema: Desc,
    ref: OriginatorRef,
    options?: HistoryOptions,
  ): AsyncGenerator<CrudRevision<MessageShape<Desc>>, void, undefined>;
  /** Declares a document type, optionally with a JSON Schema its documents (without `originator`) must match. */
  registerType(type: types.EntityTypeRef, options?: types.RegisterTypeOptions): Promise<void>;
  /** The latest spec of a registered type; `not_found` for an unknown one. */
  getType(type: types.EntityTypeRef, options?: CallOptions): Promise<CrudEntitySpec>;
  /** Replaces a type's JSON Schema with one of a higher `schemaVersion`. */
  updateType(type: types.EntityTypeRef, options: types.UpdateTypeOptions): Promise<void>;
  /** Every registered type, in name order. */
  listTypes(options?: types.ListTypesOptions): AsyncGenerator<CrudEntitySpec, void, undefined>;
}

/** Creates a {@link CrudClient} over any transport (browser or Node). */
export function createCrudClient(transport: Transport, options: CrudClientOptions = {}): CrudClient {
  const service = createClient(CrudStoreService, transport);
  const json: DocumentJsonOptions = { registry: options.registry, alwaysEmitImplicit: options.alwaysEmitImplicit };

  async function* listAll<Desc extends DescMessage>(schema: Desc, opts: ListOptions = {}) {
    const limit = limitOf(opts.limit);
    yield* followPageTokens(async (pageToken) => {
      const page = await listPage(schema, { ...opts, limit, pageToken });
      return { items: page.documents, nextPageToken: page.nextPageToken };
    });
  }

  async function listPage<Desc extends DescMessage>(
    schema: Desc,
    opts: ListPageOptions = {},
  ): Promise<CrudPage<MessageShape<Desc>>> {
    checkSchema(schema);
    const request = {
      entityType: schema.typeName,
      pageToken: opts.pageToken ?? "",
      limit: limitOf(opts.limit),
      skipPayload: opts.skipPayload ?? false,
    };
    const page = await service.list(request, opts);
    return {
      documents: page.results.map((r) => decodeDocument(schema, r.payload, required(r.originator, "List"), json)),
      nextPageToken: page.nextPageToken,
    };
  }

  async function* history<Desc extends DescMessage>(schema: Desc, ref: OriginatorRef, opts: HistoryOptions = {}) {
    const { id } = idVersionOf(ref, "history");
    const limit = limitOf(opts.limit);
    checkSchema(schema);
    yield* followPageTokens(async (pageToken) => {
      const page = await service.history({ entityType: schema.typeName, originatorId: id, pageToken, limit }, opts);
      const items = page.revisions.map((r): CrudRevision<MessageShape<Desc>> => ({
        version: r.version,
        action: r.action,
        occurredOn: r.occurredOn === undefined ? undefined : timestampDate(r.occurredOn),
        message: decodeDocument(schema, r.payload, { id, version: r.version }, json).message,
      }));
      return { items, nextPageToken: page.nextPageToken };
    });
  }

  return {
    service,
    async create(schema, message, opts = {}) {
      const own = originatorFieldOf(schema)?.read(message);
      const id = agree("create", "id", own?.id || undefined, opts.id || undefined) ?? "";
      const version = own?.version ?? 0n;
      const payload = encodeDocument(schema, message, json);
      const originator = id !== "" || version !== 0n ? { id, version } : undefined;
      const response = await service.create({ entityType: schema.typeName, originator, payload }, opts);
      return withOriginator(schema, message, required(response.originator, "Create"));
    },
    async get(schema, ref, opts = {}) {
      const given = idVersionOf(ref, "get");
      checkSchema(schema);
      const version = agree("get", "version", given.version || undefined, opts.version || undefined) ?? 0n;
      const response = await service.get(
        { entityType: schema.typeName, originator: { id: given.id, version }, deleted: opts.deleted ?? false },
        opts,
      );
      return decodeDocument(schema, response.payload, required(response.originator, "Get"), json);
    },
    async update(schema, message, opts = {}) {
      const own = originatorFieldOf(schema)?.read(message);
      const id = agree("update", "id", own?.id || undefined, opts.originator?.id || undefined);
      const version = agree("update", "version", own?.version || undefined, opts.originator?.version || undefined);
      if (id === undefined) {
        throw invalid(`update of ${schema.typeName} needs the document's id: set its originator or options.originator`);
      }
      if (version === undefined) {
        throw invalid(`update of ${schema.typeName} ${id} needs the version last read (optimistic concurrency), not 0`);
      }
      const payload = encodeDocument(schema, message, json);
      const response = await service.update(
        { entityType: schema.typeName, originator: { id, version }, payload },
        opts,
      );
      return withOriginator(schema, message, required(response.originator, "Update"));
    },
    async delete(schema, ref, opts = {}) {
      const given = idVersionOf(ref, "delete");
      checkSchema(schema);
      const response = await service.delete({ entityType: schema.typeName, originator: given }, opts);
      return required(response.originator, "Delete");
    },
    listPage,
    list: listAll,
    history,
    registerType: (type, opts) => types.registerType(service, type, opts),
    getType: (type, opts) => types.getType(service, type, opts),
    updateType: (type, opts) => types.updateType(service, type, opts),
    listTypes: (opts) => types.listTypes(service, opts),
  };
}

/** A copy of `message` with its originator field set, so the caller's message stays as it was. */
function withOriginator<Desc extends DescMessage>(
  schema: Desc,
  message: MessageShape<Desc>,
  originator: Originator,
): CrudDocument<MessageShape<Desc>> {
  const copy = clone(schema, message);
  originatorFieldOf(schema)?.write(copy, originator);
  return { originator: create(OriginatorSchema, { id: originator.id, version: originator.version }), message: copy };
}

/** Rejects a malformed `originator` field before any call, also in calls that would not otherwise read it. */
function checkSchema(schema: DescMessage): void {
  originatorFieldOf(schema);
}

function idVersionOf(ref: OriginatorRef, method: string): IdVersion {
  const given = typeof ref === "string" ? { id: ref, version: 0n } : { id: ref.id, version: ref.version ?? 0n };
  if (given.id === "") {
    throw invalid(`${method} needs a document id`);
  }
  return given;
}

/** The one value given by the message and/or the options; both given and different is a caller's mistake. */
function agree<T>(method: string, what: string, fromMessage: T | undefined, fromOptions: T | undefined): T | undefined {
  if (fromMessage !== undefined && fromOptions !== undefined && fromMessage !== fromOptions) {
    throw invalid(`${method}: two different ${what}s given, ${String(fromMessage)} and ${String(fromOptions)}`);
  }
  return fromMessage ?? fromOptions;
}

function required(originator: Originator | undefined, rpc: string): Originator {
  if (originator === undefined) {
    throw new ConnectError(`${rpc} answered without an originator`, Code.Internal);
  }
  return originator;
}

function invalid(message: string): ConnectError {
  return new ConnectError(message, Code.InvalidArgument);
}
