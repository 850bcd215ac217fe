import { open, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import type { Event } from "@eskit/client";
import { entryFromLine } from "../entry-json.js";
import { batchesOf, type Line, storeInOrder, storeOneByOne } from "../import-batches.js";
import { UsageError } from "../exit-codes.js";
import { printRecord } from "../output.js";
import { progressOf } from "../progress.js";
import type { EskitCommand } from "./command.js";

/** Where an interrupted import of `file` resumes: the byte just after the last line of its last stored batch. */
interface Checkpoint {
  readonly size: number;
  readonly mtimeMs: number;
  readonly offset: number;
  readonly lines: number;
  readonly events: number;
  /** The run's events per Append: a resumed run keeps it, so that a batch sent again is the very same request. */
  readonly batch: number;
}

/**
 * `eskit import file.ndjson`: appends the events of an export (one log entry per line, see entry-json.ts) to the
 * Event Store, in file order, in batches. Every event keeps its event id, so the import is idempotent: a batch sent
 * twice is stored once (the Event Store answers a retry with the same ids with what it stored). After each stored
 * batch it notes in `<file>.eskit-import` where it got to; run again after an interruption, it resumes there (and a
 * batch that was stored but not noted is sent again, harmlessly). The whole file is checked before anything is
 * written: a malformed line stops it with nothing stored.
 */
export const importLog: EskitCommand = {
  command: "import <file>",
  describe: "append the events of an NDJSON export (eskit export), resuming where an interrupted import stopped",
  builder: (yargs) =>
    yargs
      .positional("file", { type: "string", describe: "the NDJSON file" })
      .option("batch", {
        type: "number",
        default: 5000,
        describe:
          "events per Append (at most 3 MiB of them); a resumed import, or one started over after an interruption, keeps the one it started with",
      })
      .option("stream", {
        type: "boolean",
        default: true,
        describe:
          "send the batches over one AppendStream (HTTP/2); --no-stream sends one Append after the other over HTTP/1.1 (slower; for a proxy that passes no HTTP/2)",
      }),
  run: async ({ session, io, options, args }) => {
    const file = String(args["file"]);
    const requested = Number(args["batch"]);
    if (!Number.isInteger(requested) || requested < 1 || requested > 10_000) {
      throw new UsageError(`--batch must be a whole number from 1 to 10000, got ${String(args["batch"])}`);
    }
    const checkpointFile = `${file}.eskit-import`;
    const info = await stat(file).catch((error: Error) => {
      throw new UsageError(`cannot read ${file}: ${error.message}`);
    });
    const saved = await readCheckpoint(checkpointFile);
    const resume =
      saved !== undefined && saved.size === info.size && saved.mtimeMs === info.mtimeMs ? saved : undefined;
    if (saved !== undefined && resume === undefined) {
      io.stderr.write(`${file} changed since the interrupted import: starting over (stored events are skipped)\n`);
    } else if (resume !== undefined) {
      io.stderr.write(`resuming after line ${resume.lines} (${resume.events} events stored before)\n`);
    }
    // Starting over keeps the interrupted import's batch size too: the batches it stored go again as the very same
    // requests (idempotent), where other boundaries would mix stored and new events in one, which is refused.
    const start = resume ?? {
      size: info.size,
      mtimeMs: info.mtimeMs,
      offset: 0,
      lines: 0,
      events: 0,
      batch: saved?.batch ?? requested,
    };
    const batchEvents = start.batch;
    // Every line is checked first: a malformed file stores nothing.
    let total = 0;
    for await (const _ of lines(file, start, session.signal)) total++;
    const progress = progressOf(io, "imported", total);
    let done = 0;
    let at = start;
    const noteStored = async (stored: readonly Line[]): Promise<void> => {
      const last = stored.at(-1)!;
      at = { ...at, offset: last.end, lines: last.number, events: at.events + stored.length };
      // Written aside, then renamed over the old one: a kill mid-write leaves the previous note whole.
      await writeFile(`${checkpointFile}.tmp`, JSON.stringify(at));
      await rename(`${checkpointFile}.tmp`, checkpointFile);
      done += stored.length;
      progress.update(done, done);
    };
    const batches = () => batchesOf(lines(file, at, session.signal), batchEvents, session.signal);
    // Over one AppendStream (HTTP/2); a server without it gets the Appends one after the other.
    const streamed =
      args["stream"] !== false && (await storeInOrder(session.eventStoreOverHttp2(options), batches(), noteStored));
    if (!streamed) await storeOneByOne(session.eventStore(options), batches(), noteStored);
    if (session.signal.aborted) {
      progress.stop();
      io.stderr.write(`interrupted after line ${at.lines}: run the same command again to resume\n`);
      return;
    }
    progress.stop();
    await rm(checkpointFile, { force: true });
    await rm(`${checkpointFile}.tmp`, { force: true });
    printRecord(io, options.output, { file, events: String(at.events), lines: String(at.lines) });
  },
};

async function readCheckpoint(path: string): Promise<Checkpoint | undefined> {
  const text = await readFile(path, "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const parsed = JSON.parse(text) as Checkpoint;
    const whole = [parsed.offset, parsed.lines, parsed.events, parsed.batch].every(Number.isSafeInteger);
    return whole && parsed.batch >= 1 && parsed.batch <= 10_000 ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** The lines of `file` after `from.offset`, parsed; empty lines are skipped. UsageError names a malformed one. */
async function* lines(file: string, from: Checkpoint, signal: AbortSignal): AsyncGenerator<Line> {
  const handle = await open(file);
  try {
    let position = from.offset;
    let number = from.lines;
    let rest = Buffer.alloc(0);
    const chunk = Buffer.alloc(256 * 1024);
    for (;;) {
      if (signal.aborted) return;
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, position + rest.length);
      const data = bytesRead === 0 ? rest : Buffer.concat([rest, chunk.subarray(0, bytesRead)]);
      let lineStart = 0;
      for (let newline = data.indexOf(10); newline !== -1; newline = data.indexOf(10, lineStart)) {
        number++;
        const begin = lineStart;
        lineStart = newline + 1;
        const text = data.toString("utf8", begin, newline);
        if (text.trim() !== "") yield parse(text, number, position + lineStart, lineStart - begin);
      }
      rest = data.subarray(lineStart);
      position += lineStart;
      if (bytesRead === 0) {
        if (rest.length > 0 && rest.toString("utf8").trim() !== "") {
          yield parse(rest.toString("utf8"), number + 1, position + rest.length, rest.length);
        }
        return;
      }
    }
  } finally {
    await handle.close();
  }
}

function parse(text: string, number: number, end: number, bytes: number): Line {
  let event: Event | undefined;
  try {
    event = entryFromLine(text).event;
  } catch (error) {
    throw new UsageError(`line ${number} is not a log entry: ${(error as Error).message}`);
  }
  if (event === undefined || event.originator === undefined || event.eventType === "") {
    throw new UsageError(`line ${number} has no event (an originator and an event type)`);
  }
  if (event.eventId === "")
    throw new UsageError(`line ${number} has no eventId: the import needs it to store each event once`);
  return { number, end, bytes, event };
}
