import { create } from "@bufbuild/protobuf";
import { GetHeadRequestSchema } from "@eskit/client";
import { wholeNumber } from "../args.js";
import { entryLine } from "../entry-json.js";
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
    const headId = (await eventStore.getHead(create(GetHeadRequestSchema), { signal: session.signal })).headId;
    const progress = progressOf(io, "exported", Number(headId - fromId + 1n));
    const selector = String(args["selector"]);
    const page = (from: bigint) =>
      eventStore.logs({ fromId: from, size: pageSize, selector }, { signal: session.signal });
    let count = 0;
    let cursor = fromId;
    // The next page is asked for while this one is written, so the reader and the server work side by side.
    let next = page(cursor);
    for (;;) {
      const { entries, nextFromId } = await next;
      // Past the head as of the start, or no progress (the end of the log): this is the last page.
      const last = nextFromId <= cursor || nextFromId > headId || session.signal.aborted;
      if (!last) next = page(nextFromId);
      cursor = nextFromId;
      let text = "";
      let written = 0;
      for (const entry of entries) {
        if (entry.id > headId) break;
        text += `${entryLine(entry)}\n`;
        written++;
      }
      if (written > 0) {
        await writeWithBackpressure(io.stdout, text);
        count += written;
        progress.update(Number(entries[written - 1]!.id - fromId + 1n), count);
      }
      if (last) break;
    }
    progress.stop();
  },
};
