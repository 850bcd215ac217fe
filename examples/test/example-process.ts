/**
 * An example consumer (Python, Go) as a child process: its stdout is one JSON entry per line (the protobuf JSON
 * mapping), its stderr one JSON log record per line. Tests wait on what it printed and stop it with a signal.
 */
import { spawn } from "node:child_process";

/** How to start one example: the program, its arguments and environment, where to run it. */
export interface Launch {
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: Record<string, string>;
  readonly cwd: string;
}

/** What the tests ask of every example, whatever its language: each launcher maps it to the example's flags. */
export interface ExampleOptions {
  /** The Event Store's host:port. */
  readonly target: string;
  readonly consumerId: string;
  readonly selector: string;
  /** Hand the handler each LogsPoll message's entries at once. */
  readonly batches?: boolean;
  readonly saveEveryEntries?: number;
  readonly saveIntervalMs?: number;
  /** Reconnect when LogsPoll brought no message (not even a heartbeat) for this long. */
  readonly heartbeatTimeoutMs?: number;
  /** PING a connection silent this long, and drop it when no answer came within `keepaliveTimeoutMs`. */
  readonly keepaliveTimeMs?: number;
  readonly keepaliveTimeoutMs?: number;
  /** Sent as ESKIT_TOKEN. */
  readonly token?: string;
}

/** Maps the tests' options to one example's command line (each language names its flags its own way). */
export type ExampleLauncher = (options: ExampleOptions) => Launch;

/** A JSON value as the examples print it. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** How a process ended. */
export interface Ending {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A running example. */
export interface ExampleRun {
  /** The entries printed so far, parsed. */
  readonly entries: Json[];
  /** Their log ids. */
  ids(): bigint[];
  /** The stderr records so far, parsed (a line that is not JSON is kept as a string). */
  logs(): Json[];
  stderr(): string;
  readonly exited: Promise<Ending>;
  /** Resolves once `done()` holds; rejects when the process exits first or `timeoutMs` passes. */
  waitFor(what: string, done: () => boolean, timeoutMs?: number): Promise<void>;
  kill(signal: NodeJS.Signals): void;
  /** SIGTERM (a clean stop: the example saves its offset), then the ending. */
  stop(): Promise<Ending>;
}

const running = new Set<ExampleRun>();

/** Starts an example; {@link killAllExamples} ends whatever a failed test left running. */
export function runExample(launch: Launch): ExampleRun {
  const child = spawn(launch.command, [...launch.args], {
    cwd: launch.cwd,
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1", PYTHONUNBUFFERED: "1", ...launch.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const entries: Json[] = [];
  let partial = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) if (line !== "") entries.push(JSON.parse(line) as Json);
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));
  let ending: Ending | undefined;
  const exited = new Promise<Ending>((resolve) =>
    child.once("close", (code, signal) => {
      ending = { code, signal };
      running.delete(run);
      resolve(ending);
    }),
  );
  const run: ExampleRun = {
    entries,
    ids: () => entries.map(idOf),
    logs: () =>
      err
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => {
          try {
            return JSON.parse(line) as Json;
          } catch {
            return line;
          }
        }),
    stderr: () => err,
    exited,
    async waitFor(what, done, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (!done()) {
        if (ending !== undefined) {
          throw new Error(`the example exited (${JSON.stringify(ending)}) before ${what}:\n${err}`);
        }
        if (Date.now() > deadline) {
          throw new Error(`${what}: not within ${timeoutMs} ms (${entries.length} entries printed):\n${err}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    kill: (signal) => void child.kill(signal),
    async stop() {
      if (ending === undefined) child.kill("SIGTERM");
      return exited;
    },
  };
  running.add(run);
  return run;
}

/** SIGKILLs every example still running and waits for them. */
export async function killAllExamples(): Promise<void> {
  const left = [...running];
  for (const run of left) run.kill("SIGKILL");
  await Promise.all(left.map((run) => run.exited));
}

/** The log id of a printed entry (a uint64, printed as a string by the protobuf JSON mapping). */
export function idOf(entry: Json): bigint {
  const id = typeof entry === "object" && entry !== null && !Array.isArray(entry) ? entry["id"] : undefined;
  if (typeof id !== "string") throw new Error(`not a log entry: ${JSON.stringify(entry)}`);
  return BigInt(id);
}
