/**
 * The Entities page's question, as the address and the form carry it: which originator, and from which version.
 * The originator id travels percent-encoded in the hash (`#/entities/acme%2F42`), so any id, slashes and question
 * marks included, makes a link that opens the same entity.
 */

/** The hash path of an originator's page, e.g. `/entities/acme%2F42`. */
export function entityPath(originatorId: string): string {
  return `/entities/${encodeURIComponent(originatorId)}`;
}

/**
 * The originator id in the route's `:originatorId`, decoded; undefined when the address names none. A malformed
 * escape (a hand-edited link) is taken as it is written rather than failing the page.
 */
export function originatorIdFromParam(param: string | undefined): string | undefined {
  if (param === undefined || param === "") return undefined;
  try {
    return decodeURIComponent(param);
  } catch {
    return param;
  }
}

/** The largest version the store holds: versions are uint64. */
const maxVersion = 0xffff_ffff_ffff_ffffn;

/** The form's "from version": empty means the first version; otherwise a whole number from 1, or why it is not one. */
export function parseFromVersion(text: string): { version: bigint } | { problem: string } {
  const trimmed = text.trim();
  if (trimmed === "") return { version: 1n };
  if (!/^\d+$/.test(trimmed)) return { problem: "a version is a whole number, 1 or more" };
  const version = BigInt(trimmed);
  if (version < 1n) return { problem: "versions start at 1" };
  if (version > maxVersion) return { problem: "a version fits in 64 bits" };
  return { version };
}
