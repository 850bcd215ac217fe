import { create, type DescMessage } from "@bufbuild/protobuf";
import { Code, ConnectError, type CallOptions, type Client } from "@connectrpc/connect";
import {
  CrudEntitySpecSchema,
  CrudStoreService,
  type CrudEntitySpec,
} from "@eskit/gen/eskit/crudstore/v1/crud_store_pb.js";
import { followPageTokens, limitOf } from "./page-tokens.js";

/** A document type: its message schema (whose full name is the entity type) or the entity type itself. */
export type EntityTypeRef = DescMessage | string;

/** A JSON Schema as text or as an object (sent as its JSON text); `""` means no validation. */
export type JsonSchema = string | object;

/** Options of `CrudClient.registerType`. */
export interface RegisterTypeOptions extends CallOptions {
  /** Absent = no validation. */
  jsonSchema?: JsonSchema;
  /** Defaults to 1; every later `updateType` must use a higher one. */
  schemaVersion?: bigint;
  /** Succeed without change when the type is already registered, instead of failing with `already_exists`. */
  skipDuplicate?: boolean;
}

/** Options of `CrudClient.updateType`: the new schema, whose version must be higher than the registered one. */
export interface UpdateTypeOptions extends CallOptions {
  schemaVersion: bigint;
  /** Absent = stop validating. */
  jsonSchema?: JsonSchema;
}

/** Options of `CrudClient.listTypes`. */
export interface ListTypesOptions extends CallOptions {
  /** Types per request; absent or 0 = the server's default (100). */
  limit?: number;
}

/** The entity type a schema or a name stands for. */
export function entityTypeOf(type: EntityTypeRef): string {
  const name = typeof type === "string" ? type : type.typeName;
  if (name === "") {
    throw new ConnectError("the entity type must not be empty", Code.InvalidArgument);
  }
  return name;
}

function specOf(type: EntityTypeRef, schemaVersion: bigint, jsonSchema: JsonSchema | undefined): CrudEntitySpec {
  const text = jsonSchema === undefined ? "" : typeof jsonSchema === "string" ? jsonSchema : JSON.stringify(jsonSchema);
  return create(CrudEntitySpecSchema, {
    entityType: entityTypeOf(type),
    schemaSpec: { schemaVersion, jsonSchema: text },
  });
}

/** RegisterType with the spec built from a schema or name; see `CrudClient.registerType`. */
export async function registerType(
  service: Client<typeof CrudStoreService>,
  type: EntityTypeRef,
  options: RegisterTypeOptions = {},
): Promise<void> {
  const spec = specOf(type, options.schemaVersion ?? 1n, options.jsonSchema);
  await service.registerType({ spec, skipDuplicate: options.skipDuplicate ?? false }, options);
}

/** GetType, unwrapped to the spec; see `CrudClient.getType`. */
export async function getType(
  service: Client<typeof CrudStoreService>,
  type: EntityTypeRef,
  options: CallOptions = {},
): Promise<CrudEntitySpec> {
  const response = await service.getType({ entityType: entityTypeOf(type) }, options);
  if (response.spec === undefined) {
    throw new ConnectError("GetType answered without a spec", Code.Internal);
  }
  return response.spec;
}

/** UpdateType with the spec built from a schema or name; see `CrudClient.updateType`. */
export async function updateType(
  service: Client<typeof CrudStoreService>,
  type: EntityTypeRef,
  options: UpdateTypeOptions,
): Promise<void> {
  await service.updateType({ spec: specOf(type, options.schemaVersion, options.jsonSchema) }, options);
}

/** Every registered type, across all pages; see `CrudClient.listTypes`. */
export async function* listTypes(
  service: Client<typeof CrudStoreService>,
  options: ListTypesOptions = {},
): AsyncGenerator<CrudEntitySpec, void, undefined> {
  const limit = limitOf(options.limit);
  yield* followPageTokens(async (pageToken) => {
    const page = await service.listTypes({ limit, pageToken }, options);
    return { items: page.results, nextPageToken: page.nextPageToken };
  });
}
