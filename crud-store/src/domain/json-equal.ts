import type { JsonValue } from "./json-document.js";

/**
 * Deep equality of JSON values: the judge of "exact replay". Generic deep-equal helpers read keys through the
 * prototype chain or call `a.hasOwnProperty`, so a document with its own `__proto__`, `constructor` or
 * `hasOwnProperty` key fools them; this one only ever looks at own keys. Key order does not count (JSON objects are
 * unordered), arrays never equal objects, and `0` equals `-0` because JSON text cannot tell them apart.
 */
export function jsonEqual(a: JsonValue, b: JsonValue): boolean {
  // `===` already treats 0 and -0 as equal. NaN cannot come out of JSON.parse; Object.is keeps the relation reflexive.
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) {
    return typeof a === "number" && typeof b === "number" && Object.is(a, b);
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => jsonEqual(item, b[i] as JsonValue));
  }
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => Object.hasOwn(b, key) && jsonEqual(a[key] as JsonValue, b[key] as JsonValue));
}
