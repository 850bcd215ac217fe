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
  // Every message is checked, and almost all pass: a first walk only asks whether anything is wrong, building no
  // field paths (a string per field of every element of a list, most of what this check cost on a 5000-event append).
  // Only when it finds something does the second one, which visits the same values in the same order, say what.
  return messageFine(desc, message) ? undefined : messageProblem(desc, message, path);
}

function messageProblem(desc: DescMessage, message: object, path: string): string | undefined {
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
      return value === undefined ? undefined : messageProblem(field.message, value as object, where);
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
  if (kind === "message") return messageProblem(field.message!, item as object, at);
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

// The same walk as messageProblem's, saying only whether it would find a problem: every value it visits, in the same
// order (so a value that makes it throw, it throws at too), and the same checks of each.

function messageFine(desc: DescMessage, message: object): boolean {
  const fields = message as Record<string, unknown>;
  for (const field of desc.fields) {
    if (!fieldFine(field, fields[field.localName])) return false;
  }
  return true;
}

function fieldFine(field: DescField, value: unknown): boolean {
  switch (field.fieldKind) {
    case "scalar":
      return scalarFine(field.scalar, value);
    case "message":
      return value === undefined || messageFine(field.message, value as object);
    case "list": {
      const items = value as unknown[];
      for (let i = 0; i < items.length; i++) {
        if (!elementFine(field, items[i])) return false;
      }
      return true;
    }
    case "map": {
      const map = value as Record<string, unknown>;
      for (const key of Object.keys(map)) {
        if (!scalarFine(field.mapKey, key) || !elementFine(field, map[key])) return false;
      }
      return true;
    }
    default:
      return true;
  }
}

function elementFine(field: DescField & { fieldKind: "list" | "map" }, item: unknown): boolean {
  const kind = field.fieldKind === "list" ? field.listKind : field.mapKind;
  if (kind === "scalar") return scalarFine(field.scalar!, item);
  if (kind === "message") return messageFine(field.message!, item as object);
  return true;
}

function scalarFine(type: ScalarType, value: unknown): boolean {
  if (type === ScalarType.STRING && typeof value === "string") {
    return !value.includes("\u0000") && (value as WellFormedString).isWellFormed();
  }
  if ((type === ScalarType.UINT64 || type === ScalarType.FIXED64) && value !== undefined) {
    const n = typeof value === "bigint" ? value : BigInt(value as string | number);
    return n <= maxStoredUint64;
  }
  return true;
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
