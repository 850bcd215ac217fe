import Table from "cli-table3";

/** Where a command writes: stdout for results, stderr for progress and messages. */
export interface Io {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

export const processIo: Io = { stdout: process.stdout, stderr: process.stderr };

/** Columns apart by two spaces, no borders: what `kubectl get` and `docker ps` print, easy to read and to grep. */
const plain = {
  chars: {
    top: "",
    "top-mid": "",
    "top-left": "",
    "top-right": "",
    bottom: "",
    "bottom-mid": "",
    "bottom-left": "",
    "bottom-right": "",
    left: "",
    "left-mid": "",
    mid: "",
    "mid-mid": "",
    right: "",
    "right-mid": "",
    middle: "  ",
  },
  style: { "padding-left": 0, "padding-right": 0, head: [], border: [] },
};

/** A column of a table: its title and how a row shows in it. */
export interface Column<T> {
  readonly title: string;
  readonly value: (row: T) => string;
}

/**
 * Prints `rows` as a JSON array on one line (`json`, what scripts read, e.g. with jq: `toJson` gives each row's JSON
 * form) or as a table (`table`, for people).
 */
export function printRows<T>(
  io: Io,
  format: "json" | "table",
  rows: readonly T[],
  columns: readonly Column<T>[],
  toJson: (row: T) => unknown,
): void {
  io.stdout.write(format === "json" ? `${JSON.stringify(rows.map(toJson))}\n` : `${tableText(columns, rows, true)}\n`);
}

/** `rows` as a plain table, with the column titles above them when `head`. */
function tableText<T>(columns: readonly Column<T>[], rows: readonly T[], head: boolean): string {
  const table = new Table({ ...plain, ...(head ? { head: columns.map((c) => c.title.toUpperCase()) } : {}) });
  for (const row of rows) table.push(columns.map((c) => c.value(row)));
  return trimLines(table.toString());
}

/**
 * Prints pages of rows as they come, holding one page at a time however many there are: JSON as one array (written
 * element by element), a table page by page (the header once; each page's columns as wide as that page needs, as
 * `kubectl get` prints its chunks).
 */
export async function printPages<T>(
  io: Io,
  format: "json" | "table",
  pages: AsyncIterable<readonly T[]>,
  columns: readonly Column<T>[],
  toJson: (row: T) => unknown,
): Promise<void> {
  let first = true;
  if (format === "json") {
    await writeWithBackpressure(io.stdout, "[");
    for await (const page of pages) {
      let text = "";
      for (const row of page) {
        text += `${first ? "" : ","}${JSON.stringify(toJson(row))}`;
        first = false;
      }
      await writeWithBackpressure(io.stdout, text);
    }
    await writeWithBackpressure(io.stdout, "]\n");
    return;
  }
  for await (const page of pages) {
    if (page.length === 0) continue;
    await writeWithBackpressure(io.stdout, `${tableText(columns, page, first)}\n`);
    first = false;
  }
  if (first) await writeWithBackpressure(io.stdout, `${tableText(columns, [], true)}\n`);
}

/** Prints one record: JSON on one line, or a two-column table of its fields. */
export function printRecord(io: Io, format: "json" | "table", record: Record<string, unknown>): void {
  if (format === "json") {
    io.stdout.write(`${JSON.stringify(record)}\n`);
    return;
  }
  const table = new Table(plain);
  for (const [key, value] of Object.entries(record)) {
    table.push({ [key]: typeof value === "string" ? value : JSON.stringify(value, null, 2) });
  }
  io.stdout.write(`${trimLines(table.toString())}\n`);
}

function trimLines(text: string): string {
  return text
    .split("\n")
    .map((line) => line.trimEnd())
    .join("\n");
}

/** At most `max` characters of `text` on one line, for table cells. */
export function oneLine(text: string, max = 60): string {
  const flat = text.replace(/\s+/gu, " ");
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/** Writes `text` to `stream` and waits when its buffer is full, so a fast producer cannot fill memory. */
export async function writeWithBackpressure(stream: NodeJS.WritableStream, text: string | Uint8Array): Promise<void> {
  if (stream.write(text)) return;
  await new Promise<void>((resolve, reject) => {
    const done = (error?: Error): void => {
      stream.off("drain", onDrain);
      stream.off("error", done);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onDrain = (): void => done();
    stream.once("drain", onDrain);
    stream.once("error", done);
  });
}
