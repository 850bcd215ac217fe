import type { SchemaViolation } from "@eskit/client";

/** The JSON Pointer (RFC 6901) `pointer` as its unescaped segments: `/a~1b/0` is `["a/b", "0"]`, `""` is `[]`. */
export function pointerSegments(pointer: string): string[] {
  if (pointer === "") return [];
  return pointer
    .slice(1)
    .split("/")
    .map((segment) => segment.replace(/~1/g, "/").replace(/~0/g, "~"));
}

/** A path into a document as a JSON Pointer: the inverse of {@link pointerSegments}. */
export function pointerOf(segments: readonly (string | number)[]): string {
  return segments.map((s) => `/${String(s).replace(/~/g, "~0").replace(/\//g, "~1")}`).join("");
}

/** Where a refusal's violations go in a form: the messages at each field, and those no field owns. */
export interface PlacedViolations {
  readonly atFields: ReadonlyMap<string, readonly string[]>;
  readonly elsewhere: readonly SchemaViolation[];
}

/**
 * Places each violation at the field of its path's first segment (a violation deeper inside says where, e.g.
 * `/zip: must match pattern` at the `address` field); a violation of the document itself (a missing required
 * property, an extra one) or of a property without a field stays with the form's error notice.
 */
export function placeViolations(
  violations: readonly Pick<SchemaViolation, "path" | "message">[],
  fieldNames: readonly string[],
): PlacedViolations {
  const names = new Set(fieldNames);
  const atFields = new Map<string, string[]>();
  const elsewhere: SchemaViolation[] = [];
  for (const violation of violations) {
    const [first, ...rest] = pointerSegments(violation.path);
    if (first === undefined || !names.has(first)) {
      elsewhere.push(violation as SchemaViolation);
      continue;
    }
    const message = rest.length === 0 ? violation.message : `${pointerOf(rest)}: ${violation.message}`;
    atFields.set(first, [...(atFields.get(first) ?? []), message]);
  }
  return { atFields, elsewhere };
}
