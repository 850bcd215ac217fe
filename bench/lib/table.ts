/** A column of a printed table; numbers read best right-aligned. */
export interface Column {
  readonly title: string;
  readonly align?: "left" | "right";
}

// Count code points, not UTF-16 units, so ✓ and × do not skew the padding.
const width = (s: string) => [...s].length;
const pad = (s: string, w: number, align: "left" | "right") =>
  align === "right" ? " ".repeat(w - width(s)) + s : s + " ".repeat(w - width(s));

/** Prints `rows` as a Markdown table under `title` (so the output can be pasted into a report as is). */
export function printTable(
  title: string,
  columns: readonly Column[],
  rows: readonly (readonly string[])[],
  notes: readonly string[] = [],
): void {
  const widths = columns.map((c, i) => Math.max(width(c.title), ...rows.map((r) => width(r[i] ?? ""))));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell, i) => pad(cell, widths[i]!, columns[i]!.align ?? "right")).join(" | ")} |`;
  const out = [
    "",
    `## ${title}`,
    "",
    line(columns.map((c) => c.title)),
    `|${widths.map((w, i) => (columns[i]!.align === "left" ? `:${"-".repeat(w + 1)}` : `${"-".repeat(w + 1)}:`)).join("|")}|`,
    ...rows.map(line),
    ...(notes.length > 0 ? ["", ...notes.map((n) => `- ${n}`)] : []),
    "",
  ];
  process.stdout.write(`${out.join("\n")}\n`);
}

/** A progress line on stderr, so stdout keeps only the tables. */
export function progress(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}
