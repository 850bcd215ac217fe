import { randomUUID } from "node:crypto";
import { type EncodedChange, encodeChange } from "../domain/changes.js";
import {
  AlreadyExistsError,
  ConcurrencyError,
  NotFoundError,
  ValidationError,
  VersionTakenError,
} from "../domain/errors.js";
import { defaultMaxDocumentDepth, type JsonObject, parseDocument, serializeDocument } from "../domain/json-document.js";
import { checkDocumentId, checkEntityType } from "../domain/names.js";
import type { DocumentState } from "../domain/replay.js";
import type { TypeRegistry } from "../registry/type-registry.js";
import { changeEvent } from "./event-codec.js";
import type { CallScope, EventStorePort } from "./event-store-port.js";
import { type ListedDocument, listDocuments } from "./list-documents.js";
import { RecentStates } from "./recent-states.js";
import type { StateReader } from "./state-reader.js";

/** A document's id and version, as the RPCs return them. */
export interface DocumentRef {
  readonly id: string;
  readonly version: bigint;
}

/**
 * Create, Update, Delete and Get of documents. Each write checks the caller's version against the latest state and
 * the document against its type's schema, and appends one event at the next version: the Event Store refuses a
 * version already taken, so of two concurrent writers exactly one wins, and the other gets `aborted`. The latest
 * state comes from {@link RecentStates} when this store wrote or read it last (the write is then one Append, and a
 * refused one falls back to reading the state), else from the Event Store.
 */
export class DocumentStore {
  constructor(
    private readonly eventStore: EventStorePort,
    private readonly states: StateReader,
    private readonly registry: TypeRegistry,
    /** Deepest nesting of a document a caller may send (see `parseDocument`). */
    private readonly maxDocumentDepth = defaultMaxDocumentDepth,
    /** The latest states this store wrote or read, so that a write of one of them is a single Append. */
    private readonly recent = new RecentStates(0),
  ) {}

  async create(
    entityType: string,
    id: string,
    version: bigint,
    payload: string,
    scope: CallScope,
  ): Promise<DocumentRef> {
    checkEntityType(entityType);
    const documentId = id === "" ? randomUUID() : id;
    checkDocumentId(documentId);
    if (version > 1n) throw new ValidationError(`originator.version is ${version}: a new document starts at version 1`);
    const document = parseDocument(payload, "payload", this.maxDocumentDepth);
    await this.registry.validate(entityType, document, scope);
    const change = { payload: serializeDocument(document), encoding: "document" as const };
    try {
      await this.eventStore.append([changeEvent(entityType, documentId, 1n, "created", change)], scope);
    } catch (error) {
      if (error instanceof VersionTakenError) {
        throw new AlreadyExistsError(`a document with id "${documentId}" already exists`, {
          document: { entityType, id: documentId },
        });
      }
      throw error;
    }
    await this.wrote(entityType, documentId, { version: 1n, deleted: false, document }, scope, change.payload.length);
    return { id: documentId, version: 1n };
  }

  async update(
    entityType: string,
    id: string,
    version: bigint,
    payload: string,
    scope: CallScope,
  ): Promise<DocumentRef> {
    checkEntityType(entityType);
    checkDocumentId(id);
    if (version === 0n) {
      throw new ValidationError(
        "originator.version is required: the version you last read (it guards against lost updates)",
      );
    }
    const next = parseDocument(payload, "payload", this.maxDocumentDepth);
    const cached = this.recent.get(entityType, id);
    if (cached !== undefined && cached.version === version) {
      // The caller read what this store last knew: validate, and append at the next version in one call. If another
      // replica wrote meanwhile, the Append is refused and the write goes the long way below.
      await this.registry.validate(entityType, next, scope);
      const change = encodeChange(cached.document, next);
      if (change !== undefined) {
        const after = { document: next, size: payload.length };
        const written = await this.appendOnto(entityType, id, cached, "updated", change, after, scope);
        if (written !== undefined) return written;
      }
    }
    const [current] = await Promise.all([
      this.latestLive(entityType, id, scope),
      this.registry.validate(entityType, next, scope),
    ]);
    checkVersion(entityType, id, version, current.version);
    const change = encodeChange(current.document, next);
    if (change === undefined) return { id, version: current.version };
    const newVersion = current.version + 1n;
    await this.append(entityType, id, newVersion, "updated", change, scope);
    await this.wrote(entityType, id, { version: newVersion, deleted: false, document: next }, scope, payload.length);
    return { id, version: newVersion };
  }

  async delete(entityType: string, id: string, version: bigint, scope: CallScope): Promise<DocumentRef> {
    checkEntityType(entityType);
    checkDocumentId(id);
    const cached = this.recent.get(entityType, id);
    if (cached !== undefined && (version === 0n || version === cached.version)) {
      const gone = { payload: "{}", encoding: "document" as const };
      const written = await this.appendOnto(
        entityType,
        id,
        cached,
        "deleted",
        gone,
        { document: cached.document },
        scope,
      );
      if (written !== undefined) return written;
    }
    const current = await this.latestLive(entityType, id, scope);
    if (version !== 0n) checkVersion(entityType, id, version, current.version);
    const newVersion = current.version + 1n;
    await this.append(entityType, id, newVersion, "deleted", { payload: "{}", encoding: "document" }, scope);
    await this.wrote(entityType, id, { ...current, version: newVersion, deleted: true }, scope);
    return { id, version: newVersion };
  }

  /** The document right after `version` (0 = latest); a deleted one only when `includeDeleted`. */
  async get(
    entityType: string,
    id: string,
    version: bigint,
    includeDeleted: boolean,
    scope: CallScope,
  ): Promise<DocumentRef & { document: JsonObject }> {
    checkEntityType(entityType);
    checkDocumentId(id);
    const state = await this.states.read(entityType, id, version, scope);
    if (version === 0n) this.recent.set(entityType, id, state);
    if (state.deleted && !includeDeleted) {
      throw new NotFoundError(
        `${entityType} "${id}" was deleted at version ${state.version}; pass deleted=true to read it`,
      );
    }
    return { id, version: state.version, document: state.document };
  }

  /** A page of the live documents of a type (see {@link listDocuments}), from the recent states where they are current. */
  list(
    request: { entityType: string; pageToken: string; limit: number; skipPayload: boolean },
    scope: CallScope,
  ): Promise<{ documents: ListedDocument[]; nextPageToken: string }> {
    return listDocuments(this.eventStore, this.states, request, scope, this.recent);
  }

  private async latestLive(entityType: string, id: string, scope: CallScope): Promise<DocumentState> {
    const current = await this.states.read(entityType, id, 0n, scope);
    this.recent.set(entityType, id, current);
    if (current.deleted) throw new NotFoundError(`${entityType} "${id}" was deleted at version ${current.version}`);
    return current;
  }

  /**
   * Appends `change` right after the cached state `base`, in one call, leading to `after.document` (whose JSON text
   * is `after.size` long, when known); undefined when that version was taken meanwhile (the cache was behind another
   * replica: the entry is dropped, and the caller reads the latest state).
   */
  private async appendOnto(
    entityType: string,
    id: string,
    base: DocumentState,
    action: "updated" | "deleted",
    change: EncodedChange,
    after: { readonly document: JsonObject; readonly size?: number },
    scope: CallScope,
  ): Promise<DocumentRef | undefined> {
    const version = base.version + 1n;
    try {
      await this.eventStore.append([changeEvent(entityType, id, version, action, change)], scope);
    } catch (error) {
      if (!(error instanceof VersionTakenError)) throw error;
      this.recent.delete(entityType, id);
      return undefined;
    }
    const state = { version, deleted: action === "deleted", document: after.document };
    await this.wrote(entityType, id, state, scope, after.size);
    return { id, version };
  }

  /**
   * After a write: the new state is the latest known, and a snapshot of it is kept when one is due. `size`: the
   * length of the document's JSON text when the write had it at hand, so the cache need not serialize it again.
   */
  private async wrote(
    entityType: string,
    id: string,
    state: DocumentState,
    scope: CallScope,
    size?: number,
  ): Promise<void> {
    this.recent.set(entityType, id, state, size);
    await this.states.saveIfDue(entityType, id, state, scope);
  }

  private async append(
    entityType: string,
    id: string,
    version: bigint,
    action: "updated" | "deleted",
    change: { payload: string; encoding: "merge-patch" | "document" },
    scope: CallScope,
  ): Promise<void> {
    try {
      await this.eventStore.append([changeEvent(entityType, id, version, action, change)], scope);
    } catch (error) {
      if (error instanceof VersionTakenError) {
        throw new ConcurrencyError(
          `${entityType} "${id}" was changed concurrently: read it again (version ${version} or later) and retry`,
          { document: { entityType, id, basedOnVersion: version - 1n } },
        );
      }
      throw error;
    }
  }
}

/** Any version but the latest is refused: the caller did not read what it is about to change. */
function checkVersion(entityType: string, id: string, given: bigint, current: bigint): void {
  if (given !== current) {
    throw new ConcurrencyError(
      `${entityType} "${id}" is at version ${current}, not ${given}: read it again and retry with version ${current}`,
      { document: { entityType, id, basedOnVersion: given, currentVersion: current } },
    );
  }
}
