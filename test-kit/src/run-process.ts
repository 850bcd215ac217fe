/**
 * Runs the event store's entry point to completion, for tests of how the process itself ends (bad configuration),
 * where the harness's `spawnEventStore` would only report that it never became healthy.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "./event-store.js";

/** How a process ended. */
export interface ProcessOutcome {
  /** The exit code, or null when a signal ended it. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** True when it was still running after the timeout and had to be killed. */
  readonly timedOut: boolean;
}

/**
 * Runs `node --import tsx event-store/src/main.ts` with `env` over this process's environment, minus the storage and
 * listening variables of the test runner (so a store that wrongly accepts its configuration touches only a throwaway
 * PGlite directory on a free port), and waits for it to exit; after `timeoutMs` it is killed.
 */
export async function runEventStoreProcess(env: Record<string, string>, timeoutMs = 40_000): Promise<ProcessOutcome> {
  const dataDir = await mkdtemp(join(tmpdir(), "eskit-run-"));
  const inherited = { ...process.env };
  for (const name of ["DATABASE_URL", "ESKIT_DATA_DIR", "PORT", "HOST"]) delete inherited[name];
  try {
    const child = spawn(process.execPath, ["--import", "tsx", "event-store/src/main.ts"], {
      cwd: repoRoot,
      env: { ...inherited, ESKIT_DATA_DIR: dataDir, HOST: "127.0.0.1", PORT: "0", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.once("close", (c, s) => resolve([c, s])),
    );
    clearTimeout(timer);
    return { code, signal, stdout, stderr, timedOut };
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}
