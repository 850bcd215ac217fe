/**
 * Any ESKIT service as a child process, as in production: started with `node --import tsx <entry>` (so the pid held
 * is the service's own, and SIGKILL hits it, not a wrapper), on a port chosen free beforehand, and handed over once
 * `GET /healthz` answers 200.
 */
import { spawn } from "node:child_process";
import { createServer, type AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { allocatorEnv } from "@eskit/server-kit/memory/allocator-env.js";

/** The repository root, where `node --import tsx` finds tsx and the services find their files. */
export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

/** A service running as a child process. */
export interface SpawnedService {
  url: string;
  port: number;
  pid: number;
  /** Sends a signal (SIGTERM by default); see `exited` for the outcome. */
  kill(signal?: NodeJS.Signals): void;
  /** The exit code, or null when a signal ended the process. */
  exited: Promise<number | null>;
  /** Everything the process wrote to stdout so far (its JSON log lines). */
  stdout(): string;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** SIGTERM unless it already ended, then wait for the exit. */
  stop(): Promise<number | null>;
}

/** Options of {@link spawnService}. */
export interface SpawnServiceOptions {
  /** The entry point, relative to the repository root, e.g. `event-store/src/main.ts`. */
  entry: string;
  /** On top of this process's environment, minus the variables of {@link notInherited}. */
  env: Record<string, string | undefined>;
  /** How long the service may take to answer `/healthz` with 200. */
  startTimeoutMs?: number;
}

/**
 * Variables of the test runner a child never inherits: its storage (a child must get only the storage the test
 * chose) and its listening address. `PORT` and `HOST` are set from `env` or chosen.
 */
export const notInherited = ["DATABASE_URL", "ESKIT_DATA_DIR", "PORT", "HOST"] as const;

/**
 * Starts the service and resolves once it is healthy; when it exits first or is not healthy in time, it is killed
 * and the promise rejects with its stderr. `env.PORT` reuses a port (a restart where clients expect it).
 */
export async function spawnService(options: SpawnServiceOptions): Promise<SpawnedService> {
  const port = options.env["PORT"] !== undefined ? Number(options.env["PORT"]) : await freePort();
  const host = options.env["HOST"] ?? "127.0.0.1";
  const inherited = { ...process.env };
  for (const name of notInherited) delete inherited[name];

  const child = spawn(process.execPath, ["--import", "tsx", options.entry], {
    cwd: repoRoot,
    // Started as the image and `make run` start a service: with the allocator settings they set.
    env: { ...allocatorEnv, ...inherited, ...options.env, PORT: String(port), HOST: host },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntilHealthy(url, options, exited, () => err);
  } catch (error) {
    child.kill("SIGKILL");
    await exited;
    throw error;
  }
  return {
    url,
    port,
    pid: child.pid ?? -1,
    kill: (signal = "SIGTERM") => void child.kill(signal),
    exited,
    stdout: () => out,
    stderr: () => err,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}

async function waitUntilHealthy(
  url: string,
  options: SpawnServiceOptions,
  exited: Promise<number | null>,
  stderr: () => string,
): Promise<void> {
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code ?? null));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exitCode !== undefined) {
      throw new Error(`${options.entry} exited with ${exitCode} before it was healthy:\n${stderr()}`);
    }
    try {
      const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${options.entry} at ${url} was not healthy within ${timeoutMs} ms:\n${stderr()}`);
}

/** A port that was free a moment ago; the small race with other processes is acceptable in tests. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
