import type { Column } from "./table.js";

/** A table measured now and printed later, so a benchmark of several parts prints all its tables at the end. */
export interface TableSpec {
  readonly title: string;
  readonly columns: readonly Column[];
  readonly rows: readonly (readonly string[])[];
  readonly notes: readonly string[];
}
