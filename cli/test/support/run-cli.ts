import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { startCrudStore } from "@eskit/crud-store/app.js";
import { loadConfig } from "@eskit/crud-store/config.js";
import { startTestEventStore } from "@eskit/test-kit/event-store.js";
import { afterAll, beforeAll } from "vitest";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const bin = fileURLToPath(new URL("../../bin/eskit.mjs", import.meta.url));

/** What a run of `eskit` printed and how it ended. */
export interface CliResult {
  /** The exit code; null when a signal killed it (then `signal` says which). */
  readonly code: number | null;
  readonly signal?: NodeJS.Signals;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of {@link runCli}. */
export interface RunOptions {
  /** Variables on top of this process's environment (its own ESKIT_* ones are left out). */
  readonly env?: Record<string, string>;
  /** Written to the command's standard input, which is then closed. */
  readonly input?: string;
  /**
   * Sends `signal` (SIGINT, as Ctrl-C, by default) once `when` holds, asked on every output and every 20 ms, then
   * lets the command end by itself.
   */
  readonly stopWhen?: {
    readonly when: (output: { stdout: string; stderr: string }) => boolean;
    readonly signal?: NodeJS.Signals;
  };
  readonly timeoutMs?: number;
}

/**
 * Runs the `eskit` executable (cli/bin/eskit.mjs) as a child process, as a user's shell would, with stdout and stderr
 * not terminals (so results come as JSON unless `-o table`, and progress as plain lines).
 */
export function runCli(args: readonly string[], options: RunOptions = {}): Promise<CliResult> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("ESKIT_")));
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: repoRoot,
    env: { ...env, ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  let stopped = false;
  const check = (): void => {
    if (!stopped && options.stopWhen?.when({ stdout, stderr }) === true) {
      stopped = true;
      child.kill(options.stopWhen.signal ?? "SIGINT");
    }
  };
  const poll = options.stopWhen === undefined ? undefined : setInterval(check, 20);
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => ((stdout += chunk), check()));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => ((stderr += chunk), check()));
  child.stdin.end(options.input ?? "");
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 30_000);
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      clearInterval(poll);
      if (code === null && signal !== null) return resolve({ code: null, signal, stdout, stderr });
      resolve({ code, stdout, stderr });
    });
  });
}

/** An Event Store and a Crud Store in this process, each on its own port, on fresh storage. */
export interface Services {
  readonly eventStoreUrl: string;
  readonly crudStoreUrl: string;
  /** `--url` and `--crud-url` for them, to put before a command's own arguments. */
  readonly flags: readonly string[];
  stop(): Promise<void>;
}

export async function startServices(): Promise<Services> {
  const eventStore = await startTestEventStore();
  const crudStore = await startCrudStore({
    ...loadConfig({}),
    port: 0,
    host: "127.0.0.1",
    eventStoreUrl: eventStore.url,
  });
  return {
    eventStoreUrl: eventStore.url,
    crudStoreUrl: crudStore.url,
    flags: ["--url", eventStore.url, "--crud-url", crudStore.url],
    async stop() {
      await crudStore.close();
      await eventStore.stop();
    },
  };
}

/**
 * For a test file: services started before its tests and stopped after them, and `eskit(args)`, which runs the
 * command against them (their `--url` and `--crud-url` first).
 */
export function useServices(): {
  eskit: (args: readonly string[], options?: RunOptions) => Promise<CliResult>;
  services: () => Services;
} {
  let services: Services | undefined;
  beforeAll(async () => {
    services = await startServices();
  }, 60_000);
  afterAll(async () => {
    await services?.stop();
  });
  const started = (): Services => {
    if (services === undefined) throw new Error("the services are not started (call useServices at the top level)");
    return services;
  };
  return { eskit: (args, options) => runCli([...started().flags, ...args], options), services: started };
}
