/**
 * `make run`'s supervisor (scripts/run-system.ts) as a test starts it: on fresh storage, every setting at its default
 * whatever the shell running the tests has, then the test's own (its free ports, say, so that a `make run` of the
 * developer's cannot answer in its place). Handed over once it prints that the system is up.
 */
import { spawn } from "node:child_process";
import { createTestStorage } from "./event-store.js";
import { repoRoot } from "./service-process.js";

/** A running `make run`. */
export interface RunningMakeRun {
  /** stderr and stdout together, as written. */
  output(): string;
  /** SIGTERM, as Ctrl-C's SIGINT, then the exit code; the storage is removed afterwards. */
  stop(): Promise<number | null>;
}

/**
 * Variables of the test runner's shell `make run` never sees: those of the services, the console and the bridge
 * (NATS_URL would start one), so that each test says what it sets.
 */
function inheritedEnv(): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) =>
        !/^(?:ESKIT_|EVENT_STORE_|CRUD_STORE_|CONSOLE_|JETSTREAM_)/u.test(name) &&
        !["DATABASE_URL", "PORT", "HOST", "CONSUMER_ID", "LOG_LEVEL", "NATS_URL"].includes(name),
    ),
  );
}

/**
 * Starts the supervisor with `env` on top of the cleaned environment and fresh storage; resolves once its summary
 * (`ESKIT is up ...`, ended by a blank line) is out. When it exits first or is not up within `timeoutMs`, it is
 * stopped and the promise rejects with its output.
 */
export async function startMakeRun(env: Record<string, string>, timeoutMs = 60_000): Promise<RunningMakeRun> {
  const storage = await createTestStorage();
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/run-system.ts"], {
    cwd: repoRoot,
    env: { ...inheritedEnv(), ...storage.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (log += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (log += chunk));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    const code = await exited;
    await storage.remove();
    return code;
  };
  const up = await Promise.race([
    new Promise<boolean>((resolve) =>
      child.stderr.on("data", () => /ESKIT is up[\s\S]*\n\n/u.test(log) && resolve(true)),
    ),
    exited.then(() => false),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutMs).unref()),
  ]);
  if (!up) {
    await stop();
    throw new Error(`the system did not start within ${timeoutMs} ms:\n${log}`);
  }
  return { output: () => log, stop };
}

/** The summary's line for `name` (`  <name>  <what>`): what follows the name. */
export function summaryLine(output: string, name: string): string | undefined {
  const summary = output.slice(output.lastIndexOf("ESKIT is up"));
  return new RegExp(`^ {2}${name} +(.+)$`, "mu").exec(summary)?.[1];
}
