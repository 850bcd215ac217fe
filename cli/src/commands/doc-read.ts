import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import {
  Action,
  GetRequestSchema,
  HistoryRequestSchema,
  type ListResult,
  ListRequestSchema,
  type Revision,
} from "@eskit/client";
import { wholeNumber } from "../args.js";
import { oneLine, printPages, printRecord } from "../output.js";
import type { EskitCommand } from "./command.js";
import { documentOf, originatorJson, typeAndId } from "./doc-shared.js";

/**
 * Documents per List page: the most a page may hold when payloads are left out; with payloads, fewer, since a page
 * travels as one response and a document may be up to 1 MiB.
 */
const listPage = { withPayload: 100n, skipPayload: 1000n } as const;
/** Revisions per History page, for the same reason as List's pages with payloads. */
const historyPage = 100;

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
