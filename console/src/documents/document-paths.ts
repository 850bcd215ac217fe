/**
 * Where the Documents page's views live, inside the console's `#/documents` routes: `/` (the types), `/<type>` (its
 * documents) and `/<type>/<id>` (one document). Types and ids may hold any character, `/` and `%` included, so each
 * is one encoded path segment.
 */

/**
 * One path segment for `text`. wouter runs `decodeURI` over the whole path before it matches routes, which turns
 * `%25` into `%` but leaves `%2F` alone; `%` is therefore encoded twice, so that the param wouter hands back is
 * exactly `encodeURIComponent(text)` again, whatever `text` holds.
 */
export function encodeSegment(text: string): string {
  return encodeURIComponent(text).replace(/%25/g, "%2525");
}

/** The text of a route param made by {@link encodeSegment} (after wouter's `decodeURI`); a mangled one as it is. */
export function decodeSegment(param: string): string {
  try {
    return decodeURIComponent(param);
  } catch {
    return param;
  }
}

/** The path of a type's documents, relative to `#/documents`. */
export const typePath = (entityType: string) => `/${encodeSegment(entityType)}`;

/** The path of one document, relative to `#/documents`. */
export const documentPath = (entityType: string, id: string) => `${typePath(entityType)}/${encodeSegment(id)}`;
