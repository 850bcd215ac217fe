import type { Argv, CommandModule } from "yargs";
import type { Io } from "../output.js";
import type { GlobalOptions, Session } from "../session.js";

/** What a command's handler gets: the run's session and streams, the global options, and its own arguments. */
export interface CommandContext {
  readonly session: Session;
  readonly io: Io;
  readonly options: GlobalOptions;
  readonly args: Record<string, unknown>;
}

/** One `eskit` command: its yargs name and description, its own flags, and what it does. */
export interface EskitCommand {
  readonly command: string | readonly string[];
  readonly describe: string;
  readonly builder?: (yargs: Argv) => Argv;
  readonly run: (context: CommandContext) => Promise<void>;
}

/** The command as yargs takes it, its handler given the session, the streams and the parsed global options. */
export function toYargs(command: EskitCommand, session: Session, io: Io): CommandModule {
  return {
    command: command.command as string | string[],
    describe: command.describe,
    builder: (yargs) => command.builder?.(yargs) ?? yargs,
    handler: async (argv) => {
      const args = argv as Record<string, unknown>;
      const options: GlobalOptions = {
        url: String(args["url"]),
        crudUrl: String(args["crud-url"]),
        token: typeof args["token"] === "string" ? args["token"] : undefined,
        output: args["output"] === "json" ? "json" : "table",
      };
      await command.run({ session, io, options, args });
    },
  };
}

/** A group of commands under one name (`eskit doc create`, `eskit doc get`, ...). */
export function group(
  name: string,
  describe: string,
  commands: readonly EskitCommand[],
  session: Session,
  io: Io,
): CommandModule {
  return {
    command: name,
    describe,
    builder: (yargs) => {
      let built = yargs;
      for (const command of commands) built = built.command(toYargs(command, session, io));
      return built.demandCommand(1, `say which: eskit ${name} --help lists them`);
    },
    handler: () => {},
  };
}
