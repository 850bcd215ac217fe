import diff from "microdiff";
import { pointerOf } from "./field-violations.js";

/** What happened to one value between two versions of a document. */
export type ChangeKind = "added" | "removed" | "changed";

/** One change between two versions, ready to show: where (a JSON Pointer) and the values as JSON text. */
export interface DocumentChange {
  readonly kind: ChangeKind;
  readonly path: string;
  /** The value before, as JSON; undefined for an added one. */
  readonly before?: string;
  /** The value after, as JSON; undefined for a removed one. */
  readonly after?: string;
}

const kinds = { CREATE: "added", REMOVE: "removed", CHANGE: "changed" } as const;

/**
 * The changes from `before` to `after`, as microdiff finds them: the deepest values that differ, each once, in the
 * order of the documents' properties. A value that changes type (an object becoming a string) is one change of the
 * whole value; an element added to an array is one `added` at its index.
 */
export function documentChanges(before: Record<string, unknown>, after: Record<string, unknown>): DocumentChange[] {
  return diff(before, after).map((d) => ({
    kind: kinds[d.type],
    path: pointerOf(d.path),
    ...(d.type === "CREATE" ? {} : { before: JSON.stringify(d.oldValue) }),
    ...(d.type === "REMOVE" ? {} : { after: JSON.stringify(d.value) }),
  }));
}
