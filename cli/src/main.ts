import yargs from "yargs";
import { group, toYargs } from "./commands/command.js";
import { consumersGet, consumersList, consumersSet } from "./commands/consumers.js";
import { docGet, docHistory, docList } from "./commands/doc-read.js";
import { docCreate, docDelete, docUpdate } from "./commands/doc-write.js";
import { exportLog } from "./commands/export.js";
import { importLog } from "./commands/import.js";
import { append, events, head, tail } from "./commands/log.js";
import { typesGet, typesList, typesRegister, typesUpdate } from "./commands/types.js";
import { describeError, exitCodeOf, exitCodes, UsageError } from "./exit-codes.js";
import { type Io, processIo } from "./output.js";
import { Session } from "./session.js";

/**
 * Runs `eskit` with `args` (the command line without `node` and the script) and resolves to its exit code. Output
 * goes to `io`; a failure is one line on stderr, `eskit: <code>: <message>`, and the exit code says what kind it was
 * (exit-codes.ts).
 */
export async function run(args: readonly string[], io: Io = processIo): Promise<number> {
  const session = new Session();
  const onInterrupt = (): void => session.abort();
  process.once("SIGINT", onInterrupt);
  try {
    await parser(args, session, io).parseAsync();
    return session.signal.aborted ? exitCodes.interrupted : exitCodes.ok;
  } catch (error) {
    if (session.signal.aborted) return exitCodes.interrupted;
    io.stderr.write(`eskit: ${describeError(error)}\n`);
    return exitCodeOf(error);
  } finally {
    process.off("SIGINT", onInterrupt);
    session.close();
  }
}

function parser(args: readonly string[], session: Session, io: Io) {
  const env = process.env;
  return yargs([...args])
    .scriptName("eskit")
    .usage("$0 <command> [options]\n\nThe Event Store, the Crud Store and their consumers from a terminal.")
    .option("url", {
      type: "string",
      default: env["ESKIT_URL"] || "http://127.0.0.1:8081",
      describe: "the Event Store (environment: ESKIT_URL)",
      global: true,
    })
    .option("crud-url", {
      type: "string",
      default: env["ESKIT_CRUD_URL"] || "http://127.0.0.1:8082",
      describe: "the Crud Store (environment: ESKIT_CRUD_URL)",
      global: true,
    })
    .option("token", {
      type: "string",
      default: env["ESKIT_TOKEN"] || undefined,
      defaultDescription: "$ESKIT_TOKEN",
      describe: "a bearer token, for services with access control (environment: ESKIT_TOKEN)",
      global: true,
    })
    .option("output", {
      alias: "o",
      choices: ["json", "table"] as const,
      default: io.stdout.isTTY === true ? "table" : "json",
      defaultDescription: "table on a terminal, else json",
      describe: "how results are printed",
      global: true,
    })
    .command(toYargs(head, session, io))
    .command(toYargs(tail, session, io))
    .command(toYargs(events, session, io))
    .command(toYargs(append, session, io))
    .command(toYargs(exportLog, session, io))
    .command(toYargs(importLog, session, io))
    .command(
      group("consumers", "consumers and their offsets", [consumersList, consumersGet, consumersSet], session, io),
    )
    .command(
      group(
        "doc",
        "documents of the Crud Store: create, get, update, delete, their history, list",
        [docCreate, docGet, docUpdate, docDelete, docHistory, docList],
        session,
        io,
      ),
    )
    .command(
      group(
        "types",
        "the Crud Store's entity types and their JSON Schemas",
        [typesList, typesGet, typesRegister, typesUpdate],
        session,
        io,
      ),
    )
    .completion("completion", "print a shell completion script: eskit completion >> ~/.bashrc (or ~/.zshrc)")
    .demandCommand(1, "say what to do: eskit --help lists the commands")
    .recommendCommands()
    .strict()
    .help()
    .alias("help", "h")
    .version(false)
    .wrap(Math.min(120, process.stdout.columns ?? 100))
    .showHelpOnFail(false)
    .fail((message, error) => {
      throw error ?? new UsageError(`${message} (eskit --help for usage)`);
    })
    .exitProcess(false);
}
