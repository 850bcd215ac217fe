import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import {
  Action,
  CreateRequestSchema,
  DeleteRequestSchema,
  GetRequestSchema,
  HistoryRequestSchema,
  type ListResult,
  ListRequestSchema,
  type Originator,
  type Revision,
  UpdateRequestSchema,
} from "@eskit/client";
import type { Argv } from "yargs";
import { jsonArgument, wholeNumber } from "../args.js";
import { UsageError } from "../exit-codes.js";
import { oneLine, printPages, printRecord } from "../output.js";
import type { CommandContext, EskitCommand } from "./command.js";

/**
 * Documents per List page: the most a page may hold when payloads are left out; with payloads, fewer, since a page
 * travels as one response and a document may be up to 1 MiB.
 */
const listPage = { withPayload: 100n, skipPayload: 1000n } as const;
/** Revisions per History page, for the same reason as List's pages with payloads. */
const historyPage = 100;

/**
 * A document as printed: the Crud Store sends it as JSON text, shown here as the JSON it is (not a string of it), so
 * that `eskit doc get ... | jq .document.name` works. Undefined when the payload was left out. The text is the
 * Crud Store's canonical form (JSON.stringify of doubles), so parsing it here changes nothing.
 */
function documentOf(payload: string): unknown {
  return payload === "" ? undefined : JSON.parse(payload);
}

/** An id and version as JSON: the version as a string, as protobuf's JSON writes 64-bit numbers. */
const originatorJson = (originator: Originator | undefined) => ({
  id: originator?.id ?? "",
  version: String(originator?.version ?? 0n),
});

const typeAndId = (yargs: Argv) =>
  yargs
    .positional("type", { type: "string", describe: 'the entity type, e.g. "acme.User"' })
    .positional("id", { type: "string", describe: "the document id" });

const payloadOption = {
  type: "string",
  demandOption: true,
  describe: "the whole document, a JSON object: JSON text, or @file to read it from a file (@- from standard input)",
} as const;

/** The new id and version of a write, as JSON or as a small table. */
function printOriginator({ io, options }: CommandContext, originator: Originator | undefined): void {
  printRecord(io, options.output, originatorJson(originator));
}

/** `eskit doc create TYPE --payload JSON`: a new document at version 1. */
export const docCreate: EskitCommand = {
  command: "create <type>",
  describe: "store a new document (version 1); its id is generated unless --id gives one",
  builder: (yargs) =>
    yargs
      .positional("type", { type: "string", describe: 'the entity type, e.g. "acme.User"' })
      .option("payload", payloadOption)
      .option("id", { type: "string", describe: "the id to use (default: a new UUID)" }),
  run: async (context) => {
    const { session, options, args } = context;
    const payload = await jsonArgument(String(args["payload"]), "--payload");
    const id = args["id"] === undefined ? "" : String(args["id"]);
    // An empty id would silently mean "generate one": whoever typed --id meant a particular document.
    if (args["id"] !== undefined && id === "") throw new UsageError("--id must not be empty");
    const answer = await session
      .crudStore(options)
      .create(create(CreateRequestSchema, { entityType: String(args["type"]), originator: { id }, payload }), {
        signal: session.signal,
      });
    printOriginator(context, answer.originator);
  },
};

/** `eskit doc get TYPE ID`: a document now, or as it was right after a version. */
export const docGet: EskitCommand = {
  command: "get <type> <id>",
  describe: "a document: the latest version, or as it was at --version; --deleted reads a deleted one too",
  builder: (yargs) =>
    typeAndId(yargs)
      .option("version", { type: "string", describe: "the version to read (default: the latest)" })
      .option("deleted", {
        type: "boolean",
        default: false,
        describe: "also read a deleted document (its last state)",
      }),
  run: async ({ session, io, options, args }) => {
    const version = args["version"] === undefined ? 0n : wholeNumber(args["version"], "--version", 1n);
    const answer = await session.crudStore(options).get(
      create(GetRequestSchema, {
        entityType: String(args["type"]),
        originator: { id: String(args["id"]), version },
        deleted: args["deleted"] === true,
      }),
      { signal: session.signal },
    );
    printRecord(io, options.output, { ...originatorJson(answer.originator), document: documentOf(answer.payload) });
  },
};

/** `eskit doc update TYPE ID --version N --payload JSON`: replaces a document, if N is still its latest version. */
export const docUpdate: EskitCommand = {
  command: "update <type> <id>",
  describe: "replace a document with a new one; --version is the one you last read (a stale one is refused: exit 4)",
  builder: (yargs) =>
    typeAndId(yargs)
      .option("version", { type: "string", demandOption: true, describe: "the version you last read" })
      .option("payload", payloadOption),
  run: async (context) => {
    const { session, options, args } = context;
    const version = wholeNumber(args["version"], "--version", 1n);
    const payload = await jsonArgument(String(args["payload"]), "--payload");
    const answer = await session.crudStore(options).update(
      create(UpdateRequestSchema, {
        entityType: String(args["type"]),
        originator: { id: String(args["id"]), version },
        payload,
      }),
      { signal: session.signal },
    );
    printOriginator(context, answer.originator);
  },
};

/** `eskit doc delete TYPE ID --version N`: marks a document deleted; its history stays. */
export const docDelete: EskitCommand = {
  command: "delete <type> <id>",
  describe: "delete a document (its history stays readable); --version is the one you last read",
  builder: (yargs) =>
    // Required, unlike the API's: a command line is where an id is most easily mistyped, and the version makes sure
    // that what is deleted is the document its user looked at.
    typeAndId(yargs).option("version", { type: "string", demandOption: true, describe: "the version you last read" }),
  run: async (context) => {
    const { session, options, args } = context;
    const version = wholeNumber(args["version"], "--version", 1n);
    const answer = await session.crudStore(options).delete(
      create(DeleteRequestSchema, {
        entityType: String(args["type"]),
        originator: { id: String(args["id"]), version },
      }),
      { signal: session.signal },
    );
    printOriginator(context, answer.originator);
  },
};

const revisionJson = (revision: Revision) => ({
  version: revision.version.toString(),
  action: (Action[revision.action] ?? String(revision.action)).toLowerCase(),
  occurredOn: revision.occurredOn === undefined ? "" : timestampDate(revision.occurredOn).toISOString(),
  document: documentOf(revision.payload),
});

/** `eskit doc history TYPE ID`: every revision of a document, oldest first. */
export const docHistory: EskitCommand = {
  command: "history <type> <id>",
  describe: "every revision of a document, oldest first: version, what it did, when, and the document after it",
  builder: typeAndId,
  run: async ({ session, io, options, args }) => {
    const crudStore = session.crudStore(options);
    async function* pages(): AsyncGenerator<ReturnType<typeof revisionJson>[]> {
      let pageToken = "";
      do {
        const page = await crudStore.history(
          create(HistoryRequestSchema, {
            entityType: String(args["type"]),
            originatorId: String(args["id"]),
            pageToken,
            limit: historyPage,
          }),
          { signal: session.signal },
        );
        yield page.revisions.map(revisionJson);
        pageToken = page.nextPageToken;
      } while (pageToken !== "");
    }
    await printPages(
      io,
      options.output,
      pages(),
      [
        { title: "version", value: (r) => r.version },
        { title: "action", value: (r) => r.action },
        { title: "occurred on", value: (r) => r.occurredOn },
        { title: "document", value: (r) => oneLine(JSON.stringify(r.document), 80) },
      ],
      (r) => r,
    );
  },
};

const listedJson = (result: ListResult) => ({
  ...originatorJson(result.originator),
  document: documentOf(result.payload),
});

/** `eskit doc list TYPE`: the live documents of a type, in id order. */
export const docList: EskitCommand = {
  command: "list <type>",
  describe: "the live (not deleted) documents of a type, in id order",
  builder: (yargs) =>
    yargs
      .positional("type", { type: "string", describe: 'the entity type, e.g. "acme.User"' })
      .option("limit", { type: "string", describe: "print at most this many (default: all)" })
      .option("skip-payload", { type: "boolean", default: false, describe: "ids and versions only: cheaper" }),
  run: async ({ session, io, options, args }) => {
    const limit = args["limit"] === undefined ? undefined : wholeNumber(args["limit"], "--limit", 1n);
    const skipPayload = args["skip-payload"] === true;
    const pageSize = skipPayload ? listPage.skipPayload : listPage.withPayload;
    const crudStore = session.crudStore(options);
    async function* pages(): AsyncGenerator<ReturnType<typeof listedJson>[]> {
      let printed = 0n;
      let pageToken = "";
      do {
        const left = limit === undefined ? pageSize : limit - printed;
        const page = await crudStore.list(
          create(ListRequestSchema, {
            entityType: String(args["type"]),
            pageToken,
            // Asks for no more than is still to print, so the last page reads no documents it would throw away.
            limit: Number(left < pageSize ? left : pageSize),
            skipPayload,
          }),
          { signal: session.signal },
        );
        printed += BigInt(page.results.length);
        yield page.results.map(listedJson);
        pageToken = page.nextPageToken;
      } while (pageToken !== "" && (limit === undefined || printed < limit));
    }
    const columns = [
      { title: "id", value: (r: ReturnType<typeof listedJson>) => r.id },
      { title: "version", value: (r: ReturnType<typeof listedJson>) => r.version },
    ];
    if (!skipPayload) columns.push({ title: "document", value: (r) => oneLine(JSON.stringify(r.document), 80) });
    await printPages(io, options.output, pages(), columns, (r) => (skipPayload ? { id: r.id, version: r.version } : r));
  },
};
