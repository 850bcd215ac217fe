import { apply, generate } from "json-merge-patch";
import { CorruptHistoryError } from "./errors.js";
import {
  cloneJson,
  describeJsonKind,
  isJsonObject,
  type JsonObject,
  type JsonValue,
  serializeDocument,
} from "./json-document.js";
import { jsonEqual } from "./json-equal.js";

/** How an update is stored: an RFC 7396 merge patch from the previous version, or the whole new document. */
export type ChangeEncoding = "merge-patch" | "document";

/** One update as it goes into an event's payload. */
export interface EncodedChange {
  readonly payload: string;
  readonly encoding: ChangeEncoding;
}

/**
 * Turns an update into what gets stored, or `undefined` when nothing changed (the caller then stores nothing).
 * A merge patch is kept only when it is shorter than the document and applying it reproduces `next` exactly. RFC 7396
 * cannot express every change (a patch's `null` means "delete", so explicit nulls are lost), and json-merge-patch
 * mishandles own keys like `__proto__` or `hasOwnProperty`: rather than predicting every such case, the patch is
 * checked by applying it the very way replay will, and the full document is stored whenever the check fails.
 */
export function encodeChange(previous: JsonObject, next: JsonObject): EncodedChange | undefined {
  if (jsonEqual(previous, next)) return undefined;
  const document = serializeDocument(next);
  const patch = verifiedMergePatch(previous, next, document.length);
  if (patch === undefined) return { payload: document, encoding: "document" };
  return { payload: patch, encoding: "merge-patch" };
}

/**
 * The document a stored change leads to from `previous`, which is left untouched. It runs the same steps
 * `encodeChange` verified, so a patch reproduces exactly the document that was saved.
 */
export function applyChange(previous: JsonObject, change: EncodedChange): JsonObject {
  let result: unknown;
  try {
    result = applyPayload(previous, change);
  } catch (error) {
    if (error instanceof CorruptHistoryError) throw error;
    throw new CorruptHistoryError(`a stored ${change.encoding} change cannot be applied: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (!isJsonObject(result)) {
    throw new CorruptHistoryError(
      `a stored ${change.encoding} change leads to ${describeJsonKind(result)}, not a JSON object`,
    );
  }
  return result;
}

function applyPayload(previous: JsonObject, change: EncodedChange): unknown {
  switch (change.encoding) {
    case "document":
      return JSON.parse(change.payload);
    case "merge-patch":
      return applyMergePatch(previous, change.payload);
    default:
      // Payloads come from storage, where the type system has no say.
      throw new CorruptHistoryError(`a stored change has the unknown encoding ${JSON.stringify(change.encoding)}`);
  }
}

/** The merge patch text from `previous` to `next` if it is shorter than `limit` and reproduces `next` exactly. */
function verifiedMergePatch(previous: JsonObject, next: JsonObject, limit: number): string | undefined {
  try {
    const patch: unknown = generate(previous, next);
    // `undefined` means the library saw no difference where jsonEqual did: it cannot be trusted with this pair.
    if (!isJsonObject(patch)) return undefined;
    const text = JSON.stringify(patch);
    if (text.length >= limit) return undefined;
    const replayed = applyMergePatch(previous, text);
    return isJsonObject(replayed) && jsonEqual(replayed, next) ? text : undefined;
  } catch {
    // The library throws on some exotic keys (a document whose own `hasOwnProperty` is not a function).
    return undefined;
  }
}

/**
 * Applies patch text to a copy of `previous`: `apply` mutates its target and shares the patch's values, so both
 * sides start fresh.
 */
function applyMergePatch(previous: JsonObject, patchText: string): JsonValue {
  return apply(cloneJson(previous), JSON.parse(patchText) as JsonValue) as JsonValue;
}
