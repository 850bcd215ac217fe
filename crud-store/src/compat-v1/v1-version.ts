import { ValidationError } from "../domain/errors.js";

/** The largest version the Event Store keeps (int64). */
const maxVersion = 2n ** 63n - 1n;

/**
 * A v1 originator version (a decimal string on the wire) as the core's bigint. Parsed strictly: digits only, no sign,
 * no blanks, no exponent, at most int64, so a client's bug is `invalid_argument` rather than a silently different
 * version. The empty string is proto3's "not set" and means 0 (the latest, or none), as in our contract.
 */
export function parseV1Version(text: string, field = "originator.version"): bigint {
  if (text === "") return 0n;
  if (!/^[0-9]{1,19}$/u.test(text)) {
    throw new ValidationError(`${field} is ${JSON.stringify(text)}: expected a decimal number of at most 19 digits`);
  }
  const version = BigInt(text);
  if (version > maxVersion) throw new ValidationError(`${field} is ${text}: at most ${maxVersion}`);
  return version;
}

/** A core version as a v1 client reads it: decimal, without leading zeros. */
export function formatV1Version(version: bigint): string {
  return version.toString(10);
}
