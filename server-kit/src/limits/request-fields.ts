import type { DescField, DescMessage } from "@bufbuild/protobuf";
import { ScalarType } from "@bufbuild/protobuf";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";

/** PostgreSQL's bigint, where every 64-bit id, version and offset of ours is stored. */
export const maxStoredUint64 = 9_223_372_036_854_775_807n;

/**
 * The first problem of `message` (of type `desc`) that no service could store, or undefined. Two kinds of values pass
 * the protocols and then fail in SQL with a fault of ours (`internal`): unsigned 64-bit integers above
 * {@link maxStoredUint64} (PostgreSQL has no unsigned bigint), and strings holding NUL, which PostgreSQL text cannot
 * hold. Strings with a lone UTF-16 surrogate (possible only from JSON; binary parsing rejects invalid UTF-8) are
 * refused as well: they cannot be written as UTF-8, so they would be stored altered. Field paths use the proto names
 * (`events[0].originator.version`), as the services' own messages do.
 */
export function requestFieldProblem(desc: DescMessage, message: object, path = ""): string | undefined {
  // Our request types are not recursive, so this recursion is as deep as the schema, never deeper than a request.
  const fields = message as Record<string, unknown>;
  for (const field of desc.fields) {
    const value = fields[field.localName];
    const where = path === "" ? field.name : `${path}.${field.name}`;
    const problem = fieldProblem(field, value, where);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function fieldProblem(field: DescField, value: unknown, where: string): string | undefined {
  switch (field.fieldKind) {
    case "scalar":
      return scalarProblem(field.scalar, value, where);
    case "message":
      return value === undefined ? undefined : requestFieldProblem(field.message, value as object, where);
    case "list": {
      const items = value as unknown[];
      for (let i = 0; i < items.length; i++) {
        const problem = elementProblem(field, items[i], `${where}[${i}]`);
        if (problem !== undefined) return problem;
      }
      return undefined;
    }
    case "map":
      for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
        const problem =
          scalarProblem(field.mapKey, key, `${where} key`) ??
          elementProblem(field, item, `${where}[${JSON.stringify(key)}]`);
        if (problem !== undefined) return problem;
      }
      return undefined;
    default:
      return undefined;
  }
}

/** The problem of one element of a list or one value of a map (enums have none). */
function elementProblem(
  field: DescField & { fieldKind: "list" | "map" },
  item: unknown,
  at: string,
): string | undefined {
  const kind = field.fieldKind === "list" ? field.listKind : field.mapKind;
  if (kind === "scalar") return scalarProblem(field.scalar!, item, at);
  if (kind === "message") return requestFieldProblem(field.message!, item as object, at);
  return undefined;
}

/** `String.prototype.isWellFormed` (Node 20+), which our `lib` setting (ES2023) does not declare yet. */
type WellFormedString = string & { isWellFormed(): boolean };

function scalarProblem(type: ScalarType, value: unknown, where: string): string | undefined {
  if (type === ScalarType.STRING && typeof value === "string") {
    if (value.includes("\u0000")) return `${where} contains a NUL character (U+0000), which cannot be stored`;
    if (!(value as WellFormedString).isWellFormed())
      return `${where} contains a lone UTF-16 surrogate: a string must be valid Unicode`;
    return undefined;
  }
  // Map keys of 64-bit types arrive as strings; our maps have string keys only, but a bigint check costs nothing.
  if ((type === ScalarType.UINT64 || type === ScalarType.FIXED64) && value !== undefined) {
    const n = typeof value === "bigint" ? value : BigInt(value as string | number);
    if (n > maxStoredUint64) return `${where} is ${n}: at most ${maxStoredUint64} (64-bit values are stored signed)`;
  }
  return undefined;
}

/** Throws `invalid_argument` naming the first problem {@link requestFieldProblem} finds. */
export function checkRequestFields(desc: DescMessage, message: object): void {
  const problem = requestFieldProblem(desc, message);
  if (problem !== undefined) throw new ConnectError(problem, Code.InvalidArgument);
}

/**
 * Checks every request message of every RPC with {@link checkRequestFields} before its handler runs, so no service
 * has to remember a field (a new RPC is covered without a line of its own). Streams get their request messages
 * checked as the handler reads them; a message of a stream of requests that is not valid protobuf, which Connect
 * parses after the body guard (it checks the envelopes only), is `invalid_argument` too, as the guard answers it for
 * every other call, not Connect's `internal`.
 */
export const requestFieldsInterceptor: Interceptor = (next) => async (req) => {
  if (!req.stream) {
    checkRequestFields(req.method.input, req.message);
    return next(req);
  }
  const input = req.message;
  const method = req.method;
  async function* checked() {
    try {
      for await (const message of input) {
        checkRequestFields(method.input, message);
        yield message;
      }
    } catch (error) {
      throw notParsed(error, method.input.typeName) ?? error;
    }
  }
  return next({ ...req, message: checked() });
};

/** Connect's words for a request message its protobuf parser refused (its code is `internal`). */
const parseFailure = "parse binary: ";

/** Connect's failure to parse a request message, as the body guard words it; undefined for any other error. */
function notParsed(error: unknown, typeName: string): ConnectError | undefined {
  if (!(error instanceof ConnectError) || error.code !== Code.Internal) return undefined;
  if (!error.rawMessage.startsWith(parseFailure)) return undefined;
  const reason = error.rawMessage.slice(parseFailure.length);
  return new ConnectError(`the request is not a valid ${typeName}: ${reason}`, Code.InvalidArgument);
}
