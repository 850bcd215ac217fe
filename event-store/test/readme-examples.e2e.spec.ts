/**
 * The README's shell examples, run as a reader runs them: the whole system started by `make run`'s supervisor
 * (scripts/run-system.ts) on fresh storage, then every command of every ```sh block, in README order, with the real
 * `bash`, `curl` and `npx buf curl`, each compared with the output the README shows under it (see
 * support/expected-output.ts for what `...` matches). A command the README shows no output for must print nothing.
 *
 * The README's examples name the default ports (8081, 8082, 8083); the system runs on free ports instead, so that a
 * `make run` of the developer's own (or anything else on those ports) cannot answer in its place, and every
 * `127.0.0.1:808x` of a command is rewritten to the port of the same service before it runs.
 *
 * Variables set by a command of their own (`C=http://...`) are set again before every later command. A command
 * exits 0 unless the README shows an error for it (`buf curl` exits non-zero on one). Commands that only read (plain
 * `curl` GETs, streams cut off by a deadline) are repeated for a while until their output matches, since the Metrics
 * Consumer counts an event shortly after it is committed, and a stream's first message may come late on a busy machine. The commands that are not run (they never end, or need Docker) are listed, with the reason,
 * in support/readme-examples.ts; they show up as skipped tests.
 */
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestStorage, freePort, repoRoot, type TestStorage } from "./harness.js";
import { outputMismatch, showsError } from "@eskit/test-kit/expected-output.js";
import { assignmentOf, manualExamples, notRunReason } from "@eskit/test-kit/readme-examples.js";

/**
 * Variables of the services without an ESKIT_ prefix, left out of their environment with the ESKIT_ ones (NATS_URL
 * would start the JetStream bridge, which the README's examples do not use).
 */
const serviceVariables = ["DATABASE_URL", "PORT", "HOST", "CONSUMER_ID", "LOG_LEVEL", "NATS_URL"];
const startTimeoutMs = 50_000;
const commandTimeoutMs = 15_000;
const repeatMs = 10_000;

describe("the README's shell examples, run against the whole system", () => {
  let system: RunningSystem | undefined;
  let rewritePorts: (text: string) => string = (text) => text;

  beforeAll(async () => {
    system = await startSystem();
    const { eventStore, crudStore, metricsConsumer } = system.ports;
    const ports: Record<string, number> = { "8081": eventStore, "8082": crudStore, "8083": metricsConsumer };
    rewritePorts = (text) =>
      text.replace(
        /\b(127\.0\.0\.1|localhost):(808[123])\b/gu,
        (_, host: string, port: string) => `${host}:${ports[port]}`,
      );
  });

  afterAll(async () => {
    await system?.stop();
  });

  const variables: string[] = [];
  for (const example of manualExamples(repoRoot)) {
    const title = `${example.page}:${example.line}: ${example.command.split("\n")[0]?.trim().slice(0, 100)}`;
    const skip = notRunReason(example.command);
    if (skip !== undefined) {
      it.skip(`${title} (not run: ${skip})`, () => {});
      continue;
    }
    if (assignmentOf(example.command) !== undefined) {
      variables.push(example.command.trim());
      continue;
    }
    const prelude = [...variables];
    it(title, { timeout: commandTimeoutMs + repeatMs + 5_000 }, async () => {
      const command = rewritePorts(example.command);
      const script = rewritePorts(prelude.join("\n"));
      const retryUntil = Date.now() + (mayRepeat(example.command) ? repeatMs : 0);
      let result = await runBash(`${script}\n${command}`);
      while (outputMismatch(result.output, example.expected) !== undefined && Date.now() < retryUntil) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        result = await runBash(`${script}\n${command}`);
      }
      if (result.timedOut) {
        expect.fail(
          `still running after ${commandTimeoutMs} ms: give it a deadline, or add it with its reason to notRun (support/readme-examples.ts)\n${result.output}`,
        );
      }
      const mismatch = outputMismatch(result.output, example.expected);
      expect(mismatch, `output:\n${result.output}\nexpected (${example.page}):\n${example.expected}`).toBeUndefined();
      if (!showsError(example.expected)) expect(result.code, `exit code; output:\n${result.output}`).toBe(0);
    });
  }
});

/**
 * Whether a command only reads, so it may be repeated until its output matches: a plain `curl` GET (/metrics, /healthz),
 * or a stream cut off by a deadline (`LogsPoll`, `Watch`), whose first message may come late on a busy machine.
 */
function mayRepeat(command: string): boolean {
  const plainGet = /^curl\b/u.test(command.trim()) && !/\s(?:-X|-d|--data\S*|--json)\s/u.test(command);
  return plainGet || /\/(?:LogsPoll|Watch)\b/u.test(command);
}

interface BashResult {
  /** stdout and stderr, interleaved as written. */
  output: string;
  code: number | null;
  timedOut: boolean;
}

/** Runs `script` with bash in the repository root (where `buf curl --schema proto` finds the contract). */
function runBash(script: string): Promise<BashResult> {
  return new Promise((resolve, reject) => {
    // Its own process group, so that a command that does not end is stopped with everything it started.
    const child = spawn("bash", ["-c", `exec 2>&1\n${script}`], {
      cwd: repoRoot,
      detached: true,
      stdio: ["ignore", "pipe", "ignore"],
    });
    let output = "";
    let timedOut = false;
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
    }, commandTimeoutMs);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ output, code, timedOut });
    });
  });
}

interface RunningSystem {
  ports: { eventStore: number; crudStore: number; metricsConsumer: number };
  stop(): Promise<void>;
}

/** `make run`'s supervisor with the three services on free ports and fresh storage; resolves once all are healthy. */
async function startSystem(): Promise<RunningSystem> {
  const storage: TestStorage = await createTestStorage();
  const ports = { eventStore: await freePort(), crudStore: await freePort(), metricsConsumer: await freePort() };
  // The system the README describes: every setting at its default (no access control, say), whatever the shell has.
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !/^(?:ESKIT_|EVENT_STORE_|CRUD_STORE_|JETSTREAM_)/u.test(name) && !serviceVariables.includes(name),
    ),
  );
  const logLevel = process.env["ESKIT_TEST_LOG_LEVEL"];
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/run-system.ts"], {
    cwd: repoRoot,
    env: {
      ...inherited,
      ...storage.env,
      LOG_LEVEL: logLevel === undefined || logLevel === "" ? "error" : logLevel,
      ESKIT_EVENT_STORE_PORT: String(ports.eventStore),
      ESKIT_CRUD_STORE_PORT: String(ports.crudStore),
      ESKIT_METRICS_CONSUMER_PORT: String(ports.metricsConsumer),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (log += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (log += chunk));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
    await storage.remove();
  };
  // Within the hook's timeout, so that a system that never comes up is stopped here rather than left running.
  const up = await Promise.race([
    new Promise<boolean>((resolve) => child.stderr.on("data", () => log.includes("ESKIT is up") && resolve(true))),
    exited.then(() => false),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), startTimeoutMs).unref()),
  ]);
  if (!up) {
    await stop();
    throw new Error(`the system did not start within ${startTimeoutMs} ms:\n${log}`);
  }
  return { ports, stop };
}
