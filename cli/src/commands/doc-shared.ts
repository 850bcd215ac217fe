import type { Originator } from "@eskit/client";
import type { Argv } from "yargs";
import { printRecord } from "../output.js";
import type { CommandContext } from "./command.js";

/**
 * A document as printed: the Crud Store sends it as JSON text, shown here as the JSON it is (not a string of it), so
 * that `eskit doc get ... | jq .document.name` works. Undefined when the payload was left out. The text is the
 * Crud Store's canonical form (JSON.stringify of doubles), so parsing it here changes nothing.
 */
export function documentOf(payload: string): unknown {
  return payload === "" ? undefined : JSON.parse(payload);
}

/** An id and version as JSON: the version as a string, as protobuf's JSON writes 64-bit numbers. */
export const originatorJson = (originator: Originator | undefined) => ({
  id: originator?.id ?? "",
  version: String(originator?.version ?? 0n),
});

export const typeAndId = (yargs: Argv) =>
  yargs
    .positional("type", { type: "string", describe: 'the entity type, e.g. "acme.User"' })
    .positional("id", { type: "string", describe: "the document id" });

export const payloadOption = {
  type: "string",
  demandOption: true,
  describe: "the whole document, a JSON object: JSON text, or @file to read it from a file (@- from standard input)",
} as const;

/** The new id and version of a write, as JSON or as a small table. */
export function printOriginator({ io, options }: CommandContext, originator: Originator | undefined): void {
  printRecord(io, options.output, originatorJson(originator));
}
