import { ValidationError } from "./errors.js";

/**
 * How deeply `text`, JSON, nests arrays and objects, counted up to `limit + 1` at most (a scan that stops there):
 * `{}` and `[]` are 1, `{"a":[1]}` is 2, a scalar is 0. It reads the text without parsing it and without recursion, so
 * it is safe on any input, also before JSON.parse (which is iterative) hands the value to code that recurses.
 */
export function jsonDepth(text: string, limit = Number.MAX_SAFE_INTEGER): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > deepest) deepest = depth;
      if (deepest > limit) return deepest;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return deepest;
}

/**
 * Refuses JSON nested deeper than `maxDepth` with ValidationError (`invalid_argument`). Documents and schemas go
 * through recursive code after parsing (equality, merge patches, JSON.stringify, ajv): without this bound, a request
 * nested 10,000 deep overflowed the stack (`internal`).
 */
export function checkJsonDepth(text: string, maxDepth: number, where: string, limitName?: string): void {
  if (jsonDepth(text, maxDepth) > maxDepth) {
    const named = limitName === undefined ? "" : ` (${limitName})`;
    throw new ValidationError(`${where} nests arrays and objects more than ${maxDepth} levels deep${named}`);
  }
}
