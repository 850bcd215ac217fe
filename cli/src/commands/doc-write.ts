import { create } from "@bufbuild/protobuf";
import { CreateRequestSchema, DeleteRequestSchema, UpdateRequestSchema } from "@eskit/client";
import { jsonArgument, wholeNumber } from "../args.js";
import { UsageError } from "../exit-codes.js";
import type { EskitCommand } from "./command.js";
import { payloadOption, printOriginator, typeAndId } from "./doc-shared.js";

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
