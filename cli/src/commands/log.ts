import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { AppendRequestSchema, EventSchema, GetEventsRequestSchema } from "@eskit/client";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { jsonArgument, wholeNumber } from "../args.js";
import { entryLine, eventJson } from "../entry-json.js";
import { UsageError } from "../exit-codes.js";
import { oneLine, printRecord, printRows, writeWithBackpressure } from "../output.js";
import type { EskitCommand } from "./command.js";

const when = (event: { occurredOn?: Parameters<typeof timestampDate>[0] }) =>
  event.occurredOn === undefined ? "" : timestampDate(event.occurredOn).toISOString();

/** `eskit head`: the id of the newest entry of the Application Log. */
export const head: EskitCommand = {
  command: "head",
  describe: "the id of the newest entry of the Application Log (0 when it is empty)",
  run: async ({ session, io, options }) => {
    const headId = await session.head(options);
    if (options.output === "json") io.stdout.write(`${JSON.stringify({ head: headId.toString() })}\n`);
    else io.stdout.write(`${headId}\n`);
  },
};

/** `eskit tail`: follows the Application Log, catching up from where it is asked to start. */
export const tail: EskitCommand = {
  command: "tail [selector]",
  describe: "follow the Application Log live (Ctrl-C stops): all of it, or a selector such as User.* or *.Deleted",
  builder: (yargs) =>
    yargs
      .positional("selector", { type: "string", default: "", describe: 'e.g. "User.*", "User.Created", "*.Deleted"' })
      .option("from", { type: "string", describe: "first log id to show (default: only what comes next)" })
      .option("from-end", { type: "boolean", describe: "start after the newest entry (the default)" })
      .option("json", { type: "boolean", describe: "one entry per line as JSON (as --output json does)" })
      .conflicts("from", "from-end"),
  run: async ({ session, io, options, args }) => {
    const eventStore = session.eventStore(options);
    const fromId =
      args["from"] === undefined ? (await session.head(options)) + 1n : wholeNumber(args["from"], "--from");
    const json = args["json"] === true || options.output === "json";
    const selector = String(args["selector"] ?? "");
    for await (const entry of eventStore.tail({ fromId, selector, signal: session.signal })) {
      const event = entry.event!;
      const line = json
        ? entryLine(entry)
        : `${entry.id}  ${when(event)}  ${event.eventType}  ${event.originator?.id}@${event.originator?.version}  ${oneLine(event.payload, 80)}`;
      await writeWithBackpressure(io.stdout, `${line}\n`);
    }
  },
};

/** `eskit events ORIGINATOR`: one entity's events, in version order. */
export const events: EskitCommand = {
  command: "events <originator>",
  describe: "the events of one originator (entity), in version order",
  builder: (yargs) =>
    yargs
      .positional("originator", { type: "string", describe: "the originator (entity) id" })
      .option("from", { type: "string", describe: "first version (default 1)" })
      .option("to", { type: "string", describe: "last version (default: the latest)" }),
  run: async ({ session, io, options, args }) => {
    const fromVersion = args["from"] === undefined ? 0n : wholeNumber(args["from"], "--from", 1n);
    const toVersion = args["to"] === undefined ? 0n : wholeNumber(args["to"], "--to", 1n);
    if (toVersion !== 0n && fromVersion > toVersion) throw new UsageError("--from must not be after --to");
    const originatorId = String(args["originator"]);
    const answer = await session
      .eventStore(options)
      .getEvents(create(GetEventsRequestSchema, { originatorId, fromVersion, toVersion }), { signal: session.signal });
    if (answer.events.length === 0 && fromVersion === 0n && toVersion === 0n) {
      throw new ConnectError(`originator "${originatorId}" has no events`, Code.NotFound);
    }
    printRows(
      io,
      options.output,
      answer.events,
      [
        { title: "version", value: (e) => String(e.originator?.version ?? "") },
        { title: "event type", value: (e) => e.eventType },
        { title: "occurred on", value: when },
        { title: "payload", value: (e) => oneLine(e.payload) },
      ],
      eventJson,
    );
  },
};

/** `eskit append TYPE ORIGINATOR --version N --payload JSON`: one event. */
export const append: EskitCommand = {
  command: "append <type> <originator>",
  describe: "append one event: its type (Entity.Action), the originator id, the version it takes, its payload",
  builder: (yargs) =>
    yargs
      .positional("type", { type: "string", describe: 'the event type, "<EntityType>.<Action>", e.g. User.Created' })
      .positional("originator", { type: "string", describe: "the originator (entity) id" })
      .option("version", { type: "string", demandOption: true, describe: "the version this event takes (1 = first)" })
      .option("payload", {
        type: "string",
        default: "{}",
        describe: "the payload: JSON text, or @file to read it from a file (@- from standard input)",
      })
      .option("event-id", { type: "string", describe: "a UUID of your own, so that a retry is stored once" })
      .option("metadata", {
        type: "string",
        array: true,
        describe: "key=value, as many as you like",
      }),
  run: async ({ session, io, options, args }) => {
    const version = wholeNumber(args["version"], "--version", 1n);
    const payload = await jsonArgument(String(args["payload"]), "--payload");
    const metadata: Record<string, string> = {};
    for (const pair of (args["metadata"] as string[] | undefined) ?? []) {
      const at = pair.indexOf("=");
      if (at <= 0) throw new UsageError(`--metadata takes key=value, got ${JSON.stringify(pair)}`);
      metadata[pair.slice(0, at)] = pair.slice(at + 1);
    }
    const event = create(EventSchema, {
      originator: { id: String(args["originator"]), version },
      eventType: String(args["type"]),
      payload,
      eventId: typeof args["event-id"] === "string" ? args["event-id"] : "",
      metadata,
    });
    const answer = await session
      .eventStore(options)
      .append(create(AppendRequestSchema, { events: [event] }), { signal: session.signal });
    const logId = answer.logIds[0]!;
    if (options.output === "json") io.stdout.write(`${JSON.stringify({ logId: logId.toString() })}\n`);
    else printRecord(io, "table", { "log id": logId.toString() });
  },
};
