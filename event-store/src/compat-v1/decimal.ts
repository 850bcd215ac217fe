import { ValidationError } from "../domain/errors.js";

const maxInt64 = 9_223_372_036_854_775_807n;
const digits = /^[0-9]+$/u;

/**
 * Parses a v1 decimal string (versions, log ids, offsets travel as strings in the v1 contracts) strictly: ASCII
 * digits only, no sign, no white space, no exponent, at most int64's maximum. `BigInt()` alone would accept
 * `" 7"`, `"0x7"` and `""` (as 0), which v1 clients never meant; a bad value is `invalid_argument`.
 */
export function parseDecimal(text: string, where: string): bigint {
  if (!digits.test(text)) throw new ValidationError(`${where} "${text}" is not a decimal number`);
  const value = BigInt(text);
  if (value > maxInt64) throw new ValidationError(`${where} ${text} is larger than ${maxInt64}`);
  return value;
}

/** Like {@link parseDecimal}, but `""` is `empty` (v1's "not set", e.g. `from_id` = from the beginning). */
export function parseOptionalDecimal(text: string, where: string, empty: bigint): bigint {
  return text === "" ? empty : parseDecimal(text, where);
}
