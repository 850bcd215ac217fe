import Table from "cli-table3";

/** Where a command writes: stdout for results, stderr for progress and messages. */
export interface Io {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

export const processIo: Io = { stdout: process.stdout, stderr: process.stderr };

/** A column of a table: its title and how a row shows in it. */
export interface Column<T> {
  readonly title: string;
  readonly value: (row: T) => string;
}

/**
 * Prints `rows` as a JSON array (`json`, what scripts read: `toJson` gives each row's JSON form) or as a table
 * (`table`, for people).
 */
export function printRows<T>(
  io: Io,
  format: "json" | "table",
  rows: readonly T[],
  columns: readonly Column<T>[],
  toJson: (row: T) => unknown,
): void {
  if (format === "json") {
    io.stdout.write(`${JSON.stringify(rows.map(toJson), null, 2)}\n`);
    return;
  }
  const table = new Table({ head: columns.map((c) => c.title), style: { head: [], border: [] } });
  for (const row of rows) table.push(columns.map((c) => c.value(row)));
  io.stdout.write(`${table.toString()}\n`);
}

/** Prints one record: JSON, or a two-column table of its fields. */
export function printRecord(io: Io, format: "json" | "table", record: Record<string, unknown>): void {
  if (format === "json") {
    io.stdout.write(`${JSON.stringify(record, null, 2)}\n`);
    return;
  }
  const table = new Table({ style: { head: [], border: [] } });
  for (const [key, value] of Object.entries(record)) {
    table.push({ [key]: typeof value === "string" ? value : JSON.stringify(value, null, 2) });
  }
  io.stdout.write(`${table.toString()}\n`);
}

/** At most `max` characters of `text` on one line, for table cells. */
export function oneLine(text: string, max = 60): string {
  const flat = text.replace(/\s+/gu, " ");
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/** Writes `text` to `stream` and waits when its buffer is full, so a fast producer cannot fill memory. */
export async function writeWithBackpressure(stream: NodeJS.WritableStream, text: string): Promise<void> {
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
