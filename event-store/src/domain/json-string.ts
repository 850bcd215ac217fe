// What JSON.stringify escapes in a string: `"`, `\`, control characters and lone surrogates (a surrogate of a valid
// pair is not escaped, but matching every surrogate only sends such strings the slow way).
const needsEscape = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * `JSON.stringify(s)` for a string: the same text, written directly when nothing in `s` needs escaping (most ids and
 * type names), where JSON.stringify would walk it. Used where JSON is written by hand, per event.
 */
export function jsonString(s: string): string {
  return needsEscape.test(s) ? JSON.stringify(s) : `"${s}"`;
}
