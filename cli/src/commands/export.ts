import type { AppLogEntry } from "@eskit/client";
import { wholeNumber } from "../args.js";
import { entryLine } from "../entry-json.js";
import { NdjsonWriter } from "../entry-ndjson.js";
import { writeWithBackpressure } from "../output.js";
import { progressOf } from "../progress.js";
import type { EskitCommand } from "./command.js";

/** Entries per Logs page (the server's most). */
const pageSize = 1000;

/**
 * `eskit export > file.ndjson`: the Application Log, or the part a selector picks, from an id up to its head when
 * the export started, one entry per line as JSON (see entry-json.ts), written as fast as the reader takes it.
 */
export const exportLog: EskitCommand = {
  command: "export",
  describe: "write the Application Log to standard output as NDJSON, one entry per line (eskit export > log.ndjson)",
  builder: (yargs) =>
    yargs
      .option("selector", { type: "string", default: "", describe: 'only these events, e.g. "User.*", "*.Deleted"' })
      .option("from", { type: "string", default: "1", describe: "first log id" }),
  run: async ({ session, io, options, args }) => {
    const eventStore = session.eventStore(options);
    const fromId = wholeNumber(args["from"], "--from");
    const headId = await session.head(options);
    const progress = progressOf(io, "exported", Number(headId - fromId + 1n));
    const selector = String(args["selector"]);
    let count = 0;
    const write = async (entries: readonly AppLogEntry[]): Promise<void> => {
      if (entries.length === 0) return;
      let text = "";
      for (const entry of entries) text += `${entryLine(entry)}\n`;
      await writeWithBackpressure(io.stdout, text);
      count += entries.length;
      progress.update(Number(entries.at(-1)!.id - fromId + 1n), count);
    };
    if (fromId > headId) {
      // Nothing to export.
    } else if (selector === "" || selector === "*") {
      // The whole log: one LogsPoll stream (catch-up reads it in large pages, without a round trip per page), left
      // once it has brought the head, which it must (every id up to the head is committed).
      // Its entries are written as NDJSON straight from their protobuf bytes (entry-ndjson.ts).
      const call = new AbortController();
      const stop = (): void => call.abort();
      session.signal.addEventListener("abort", stop, { once: true });
      const lines = new NdjsonWriter();
      try {
        for await (const entries of session.logsPollEntryBytes(options, { fromId }, call.signal)) {
          let last = 0n;
          let written = 0;
          for (const bytes of entries) {
            const id = lines.writeEntry(bytes);
            if (id > headId) {
              lines.dropLast();
              break;
            }
            last = id;
            written++;
          }
          if (written > 0) {
            await writeWithBackpressure(io.stdout, lines.take());
            count += written;
            progress.update(Number(last - fromId + 1n), count);
          }
          if (written < entries.length || last === headId) break;
        }
      } catch (error) {
        if (!session.signal.aborted) throw error;
      } finally {
        session.signal.removeEventListener("abort", stop);
        call.abort();
      }
    } else {
      // A selector's part of it: Logs pages, whose cursor says when the head is passed even when no entry after the
      // last one matches (a stream would then wait for the next match). The next page is asked for while this one
      // is written.
      const page = (from: bigint) =>
        eventStore.logs({ fromId: from, size: pageSize, selector }, { signal: session.signal });
      let cursor = fromId;
      let next = page(cursor);
      for (;;) {
        const { entries, nextFromId } = await next;
        // Past the head as of the start, or no progress (the end of the log): this is the last page.
        const last = nextFromId <= cursor || nextFromId > headId || session.signal.aborted;
        if (!last) next = page(nextFromId);
        cursor = nextFromId;
        await write(entries.filter((e) => e.id <= headId));
        if (last) break;
      }
    }
    progress.stop();
  },
};
