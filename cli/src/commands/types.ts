import { create } from "@bufbuild/protobuf";
import {
  type CrudEntitySpec,
  GetTypeRequestSchema,
  ListTypesRequestSchema,
  RegisterTypeRequestSchema,
  UpdateTypeRequestSchema,
} from "@eskit/client";
import { jsonArgument, wholeNumber } from "../args.js";
import { oneLine, printRecord, printRows } from "../output.js";
import type { EskitCommand } from "./command.js";

/** Types per ListTypes page: the server's most, since a type is small (its schema). */
const typesPage = 1000;

/**
 * A type as printed: its schema as the JSON it is (not a string of it), so that `jq .schema` reads it; null for a
 * type whose documents are not validated (the API's empty schema).
 */
const specJson = (spec: CrudEntitySpec | undefined) => {
  const schema = spec?.schemaSpec?.jsonSchema ?? "";
  return {
    entityType: spec?.entityType ?? "",
    schemaVersion: String(spec?.schemaSpec?.schemaVersion ?? 0n),
    schema: schema === "" ? null : (JSON.parse(schema) as unknown),
  };
};

const schemaOption = {
  type: "string",
  describe:
    'a JSON Schema (draft-07 unless its "$schema" says 2019-09 or 2020-12): JSON text, or @file (@- from standard input)',
} as const;

/** The spec a register or update command line gives: the type, its schema (none: any object) and its version. */
async function specOf(args: Record<string, unknown>) {
  const jsonSchema = args["schema"] === undefined ? "" : await jsonArgument(String(args["schema"]), "--schema");
  const schemaVersion = wholeNumber(args["schema-version"], "--schema-version", 1n);
  return { entityType: String(args["type"]), schemaSpec: { schemaVersion, jsonSchema } };
}

/** `eskit types register TYPE --schema JSON`: declares an entity type, with the JSON Schema its documents must match. */
export const typesRegister: EskitCommand = {
  command: "register <type>",
  describe: "register an entity type, with a JSON Schema its documents must match (none: any JSON object)",
  builder: (yargs) =>
    yargs
      .positional("type", { type: "string", describe: 'the entity type, e.g. "acme.User"' })
      .option("schema", schemaOption)
      .option("schema-version", { type: "string", default: "1", describe: "the schema's version number" }),
  run: async ({ session, io, options, args }) => {
    const spec = await specOf(args);
    await session
      .crudStore(options)
      .registerType(create(RegisterTypeRequestSchema, { spec }), { signal: session.signal });
    printRecord(io, options.output, {
      entityType: spec.entityType,
      schemaVersion: spec.schemaSpec.schemaVersion.toString(),
    });
  },
};

/**
 * `eskit types update TYPE --schema-version N --schema JSON`: a new schema for a registered type. Documents already
 * stored stay as they are; writes from then on must match the new schema.
 */
export const typesUpdate: EskitCommand = {
  command: "update <type>",
  describe:
    "give a registered type a new JSON Schema, with a higher --schema-version (stored documents stay as they are)",
  builder: (yargs) =>
    yargs
      .positional("type", { type: "string", describe: 'the entity type, e.g. "acme.User"' })
      .option("schema", schemaOption)
      .option("schema-version", {
        type: "string",
        demandOption: true,
        describe: "the new schema's version: higher than the registered one",
      }),
  run: async ({ session, io, options, args }) => {
    const spec = await specOf(args);
    await session.crudStore(options).updateType(create(UpdateTypeRequestSchema, { spec }), { signal: session.signal });
    printRecord(io, options.output, {
      entityType: spec.entityType,
      schemaVersion: spec.schemaSpec.schemaVersion.toString(),
    });
  },
};

/** `eskit types get TYPE`: a registered type's latest schema. */
export const typesGet: EskitCommand = {
  command: "get <type>",
  describe: "a registered entity type: its schema version and JSON Schema",
  builder: (yargs) => yargs.positional("type", { type: "string", describe: 'the entity type, e.g. "acme.User"' }),
  run: async ({ session, io, options, args }) => {
    const answer = await session
      .crudStore(options)
      .getType(create(GetTypeRequestSchema, { entityType: String(args["type"]) }), { signal: session.signal });
    printRecord(io, options.output, specJson(answer.spec));
  },
};

/** `eskit types list`: every registered type, in name order. */
export const typesList: EskitCommand = {
  command: "list",
  describe: "every registered entity type, in name order, with its schema version and JSON Schema",
  run: async ({ session, io, options }) => {
    const crudStore = session.crudStore(options);
    const specs: CrudEntitySpec[] = [];
    let pageToken = "";
    do {
      const page = await crudStore.listTypes(create(ListTypesRequestSchema, { limit: typesPage, pageToken }), {
        signal: session.signal,
      });
      specs.push(...page.results);
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    printRows(
      io,
      options.output,
      specs.map(specJson),
      [
        { title: "entity type", value: (t) => t.entityType },
        { title: "schema version", value: (t) => t.schemaVersion },
        { title: "schema", value: (t) => (t.schema === null ? "" : oneLine(JSON.stringify(t.schema), 80)) },
      ],
      (t) => t,
    );
  },
};
