import type { Registry } from "@bufbuild/protobuf";
import type { CallOptions } from "@connectrpc/connect";
import type { Action } from "@eskit/gen/eskit/crudstore/v1/crud_store_pb.js";
import type { CrudDocument } from "./crud-document.js";

/** Options of `createCrudClient`: how documents map to JSON, the same for every call. */
export interface CrudClientOptions {
  /** Needed when documents hold `google.protobuf.Any` fields or extensions, as for any proto3 JSON. */
  registry?: Registry;
  /** Write fields at their zero value too (proto3 JSON leaves them out), e.g. for a JSON Schema that requires them. */
  alwaysEmitImplicit?: boolean;
}

/** A document id, or an id with a version (an `Originator`); version absent or 0 = none. */
export type OriginatorRef = string | { readonly id: string; readonly version?: bigint };

/** Options of `CrudClient.create`; also Connect's per-call options (signal, timeoutMs, headers). */
export interface CreateOptions extends CallOptions {
  /** The id to use, when the message has no `originator` field to carry it; the server generates one if none. */
  id?: string;
}

/** Options of `CrudClient.get`; also Connect's per-call options. */
export interface GetOptions extends CallOptions {
  /** Also read a deleted document (its last state); without it a deleted document is `not_found`. */
  deleted?: boolean;
  /** The revision to read (the document right after that version); absent or 0 = the latest. */
  version?: bigint;
}

/** Options of `CrudClient.update`; also Connect's per-call options. */
export interface UpdateOptions extends CallOptions {
  /** The id and the version last read, when the message has no `originator` field to carry them. */
  originator?: { readonly id: string; readonly version: bigint };
}

/** Options of `CrudClient.list`; also Connect's per-call options, applied to each page request. */
export interface ListOptions extends CallOptions {
  /** Documents per request (the RPC's `limit`); absent or 0 = the server's default (10), at most 1000. */
  limit?: number;
  /** Leave the payloads out: each message then has default values and only its originator set. */
  skipPayload?: boolean;
}

/** Options of `CrudClient.listPage`. */
export interface ListPageOptions extends ListOptions {
  /** `""` or absent for the first page, else the previous page's `nextPageToken`. */
  pageToken?: string;
}

/** One page of `CrudClient.listPage`. */
export interface CrudPage<T> {
  documents: CrudDocument<T>[];
  /** Pass it as `pageToken` for the next page; empty at the end. */
  nextPageToken: string;
}

/** Options of `CrudClient.history`; also Connect's per-call options, applied to each page request. */
export interface HistoryOptions extends CallOptions {
  /** Revisions per request; absent or 0 = the server's default (10), at most 1000. */
  limit?: number;
}

/** One revision of a document's history. */
export interface CrudRevision<T> {
  version: bigint;
  action: Action;
  /** When the change happened (millisecond precision); undefined only if the server sent no time. */
  occurredOn: Date | undefined;
  /** The document right after this revision, its `originator` field at this version; for a deletion, its last state. */
  message: T;
}
