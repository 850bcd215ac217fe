import { allocatorEnv } from "@eskit/server-kit/memory/allocator-env.js";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import type { BenchConfig } from "./config.js";

/** An event store started for a benchmark. */
export interface BenchServer {
  readonly url: string;
  /** Process id of the child store; undefined when it runs in-process. */
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

/**
 * Starts an event store on `databaseUrl`. By default it is a child process (`node --import tsx
 * event-store/src/main.ts`), so the store and the load-generating client each get their own event loop (and,
 * on 2 cores, their own core) as in production; with BENCH_SERVER=inprocess both share this process, which is
 * handy with a debugger but lets client CPU time count against the server.
 */
export async function startBenchServer(
  config: BenchConfig,
  databaseUrl: string,
  env: Record<string, string> = {},
): Promise<BenchServer> {
  const port = await freePort();
  const storeEnv: Record<string, string> = {
    LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
    ...env,
    DATABASE_URL: databaseUrl,
    HOST: "127.0.0.1",
    PORT: String(port),
  };
  if (config.server === "inprocess") return startInProcess(storeEnv);
  const flags = config.cpuProfDir === undefined ? [] : ["--cpu-prof", "--cpu-prof-dir", config.cpuProfDir];
  flags.push(...config.storeFlags);
  const child = spawn(process.execPath, ["--import", "tsx", ...flags, "event-store/src/main.ts"], {
    cwd: repoRoot,
    env: { ...allocatorEnv, ...process.env, ...storeEnv },
    stdio: ["ignore", config.storeOutput ? "inherit" : "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    if (config.storeOutput) process.stderr.write(chunk);
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const url = `http://127.0.0.1:${port}`;
  await waitHealthy(url, child, () => stderr);
  return {
    url,
    pid: child.pid,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      await exited;
    },
  };
}

async function startInProcess(env: Record<string, string>): Promise<BenchServer> {
  const { loadConfig } = await import("../../event-store/src/config.js");
  const { startEventStore } = await import("../../event-store/src/app.js");
  const store = await startEventStore(loadConfig({ ...process.env, ...env }));
  return { url: store.url, pid: undefined, stop: () => store.close() };
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

async function waitHealthy(url: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`event store exited with ${child.exitCode}:\n${stderr()}`);
    try {
      const response = await fetch(`${url}/healthz`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill("SIGKILL");
  throw new Error(`event store did not become healthy within 30 s:\n${stderr()}`);
}
