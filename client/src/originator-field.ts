import { ScalarType, type DescField, type DescMessage, type Message } from "@bufbuild/protobuf";
import { reflect, type ReflectMessage } from "@bufbuild/protobuf/reflect";
import { Code, ConnectError } from "@connectrpc/connect";

/** An id and a version, as the Crud Store identifies one revision of a document. */
export interface IdVersion {
  id: string;
  /** 0 = none. */
  version: bigint;
}

/**
 * The `originator` field of a document message, through which the id and version travel beside the document
 * instead of inside its JSON. Reading and writing go through reflection, so the field may be the Event Store's
 * `eskit.eventstore.v1.Originator` or an application's own message with the same two fields.
 */
export interface OriginatorField {
  readonly field: DescField;
  /** The id and version set on `message`, or undefined when the field is unset. */
  read(message: Message): IdVersion | undefined;
  /** Sets the field of `message` (in place) to `originator`. */
  write(message: Message, originator: IdVersion): void;
}

const fieldName = "originator";
const int64Types: readonly ScalarType[] = [
  ScalarType.INT64,
  ScalarType.UINT64,
  ScalarType.SINT64,
  ScalarType.FIXED64,
  ScalarType.SFIXED64,
];

const cache = new WeakMap<DescMessage, OriginatorField | null>();

/**
 * Finds the field named `originator` of a document schema. A message without one is a valid document (its id
 * and version then only travel as arguments and results); a field of that name that is not a message with a
 * `string id` and a 64-bit integer `version` is rejected with `invalid_argument`, since silently storing it in
 * the JSON would hide the mistake until the ids were needed.
 */
export function originatorFieldOf(schema: DescMessage): OriginatorField | undefined {
  let found = cache.get(schema);
  if (found === undefined) {
    found = inspect(schema) ?? null;
    cache.set(schema, found);
  }
  return found ?? undefined;
}

function inspect(schema: DescMessage): OriginatorField | undefined {
  const field = schema.fields.find((f) => f.name === fieldName);
  if (field === undefined) {
    return undefined;
  }
  const target = field.fieldKind === "message" ? field.message : undefined;
  const id = target?.fields.find((f) => f.name === "id");
  const version = target?.fields.find((f) => f.name === "version");
  if (
    target === undefined ||
    id?.fieldKind !== "scalar" ||
    id.scalar !== ScalarType.STRING ||
    version?.fieldKind !== "scalar" ||
    !int64Types.includes(version.scalar)
  ) {
    throw new ConnectError(
      `${schema.typeName}.${fieldName} must be a message with "string id" and a 64-bit integer "version" ` +
        `(e.g. eskit.eventstore.v1.Originator), or be renamed`,
      Code.InvalidArgument,
    );
  }
  return {
    field,
    read(message) {
      const r = reflect(schema, message);
      if (!r.isSet(field)) {
        return undefined;
      }
      const o = r.get(field) as ReflectMessage;
      // Reflection hands 64-bit integers out as bigint even for jstype=JS_STRING fields.
      return { id: o.get(id) as string, version: o.get(version) as bigint };
    },
    write(message, originator) {
      const o = reflect(target);
      o.set(id, originator.id);
      o.set(version, originator.version);
      reflect(schema, message).set(field, o);
    },
  };
}
