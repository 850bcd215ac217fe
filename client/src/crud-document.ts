import {
  create,
  fromJson,
  toJson,
  type DescMessage,
  type JsonValue,
  type MessageShape,
  type Registry,
} from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { OriginatorSchema, type Originator } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import { originatorFieldOf, type IdVersion } from "./originator-field.js";

/**
 * One revision of a document as the typed client returns it: the message, and beside it the id and version
 * (also written into the message's `originator` field when it has one), so messages without such a field
 * work the same way.
 */
export interface CrudDocument<T> {
  originator: Originator;
  message: T;
}

/** How documents are written to and read from JSON; see `CrudClientOptions`. */
export interface DocumentJsonOptions {
  registry?: Registry | undefined;
  alwaysEmitImplicit?: boolean | undefined;
}

/**
 * Encodes a message as the JSON text of a Crud Store document, with the proto3 JSON mapping (camelCase names,
 * 64-bit integers as strings, RFC 3339 timestamps) and without its `originator` field: the id and version are
 * the store's to keep, and a copy inside the document would go stale with the next update.
 */
export function encodeDocument<Desc extends DescMessage>(
  schema: Desc,
  message: MessageShape<Desc>,
  options: DocumentJsonOptions = {},
): string {
  const field = originatorFieldOf(schema);
  let json: JsonValue;
  try {
    json = toJson(schema, message, {
      registry: options.registry,
      alwaysEmitImplicit: options.alwaysEmitImplicit ?? false,
    });
  } catch (cause) {
    throw new ConnectError(
      `cannot encode ${schema.typeName} as JSON: ${String(cause)}`,
      Code.InvalidArgument,
      undefined,
      undefined,
      cause,
    );
  }
  if (!isJsonObject(json)) {
    const kind = Array.isArray(json) ? "array" : json === null ? "null" : typeof json;
    throw new ConnectError(
      `${schema.typeName} encodes as a JSON ${kind}; a document must be an object`,
      Code.InvalidArgument,
    );
  }
  if (field !== undefined) {
    delete json[field.field.jsonName];
  }
  return JSON.stringify(json);
}

/**
 * Decodes the JSON text of a document into a message and fills its `originator` field. Unknown fields are
 * ignored, so documents written with a newer schema (or by another client) still read. An empty payload (a
 * List with `skip_payload`) gives a message with default values. A payload that does not fit the schema is an
 * `internal` error, as Connect reports a response it cannot decode.
 */
export function decodeDocument<Desc extends DescMessage>(
  schema: Desc,
  payload: string,
  originator: IdVersion,
  options: DocumentJsonOptions = {},
): CrudDocument<MessageShape<Desc>> {
  const field = originatorFieldOf(schema);
  let message: MessageShape<Desc>;
  try {
    const json: unknown = payload === "" ? {} : JSON.parse(payload);
    if (!isJsonObject(json)) {
      throw new Error("not a JSON object");
    }
    if (field !== undefined) {
      // The store's id and version win over whatever copy another writer left in the document.
      delete json[field.field.jsonName];
      delete json[field.field.name];
    }
    message = fromJson(schema, json, { ignoreUnknownFields: true, registry: options.registry });
  } catch (cause) {
    throw new ConnectError(
      `document ${originator.id} v${originator.version} does not decode as ${schema.typeName}: ${String(cause)}`,
      Code.Internal,
      undefined,
      undefined,
      cause,
    );
  }
  field?.write(message, originator);
  return { originator: create(OriginatorSchema, originator), message };
}

function isJsonObject(value: unknown): value is { [key: string]: JsonValue } {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
