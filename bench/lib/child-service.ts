import { allocatorEnv } from "@eskit/server-kit/memory/allocator-env.js";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import type { BenchConfig } from "./config.js";
import type { BenchServer } from "./event-store-server.js";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

/**
 * Starts `node --import tsx <entry>` with `env` over this process's environment (and `--cpu-prof` when
 * BENCH_CPU_PROF is set), serving on `port`, as in production: its own process and event loop. Resolves once its
 * /healthz answers 200 (within 30 s); `name` heads the error, with the end of its stderr, when it does not.
 */
export async function startChildService(
  config: BenchConfig,
  name: string,
  entry: string,
  port: number,
  env: Record<string, string>,
): Promise<BenchServer> {
  const flags = config.cpuProfDir === undefined ? [] : ["--cpu-prof", "--cpu-prof-dir", config.cpuProfDir];
  const child = spawn(process.execPath, ["--import", "tsx", ...flags, entry], {
    cwd: repoRoot,
    env: { ...allocatorEnv, ...process.env, ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    await exited;
  };
  try {
    await untilHealthy(url, () => (child.exitCode === null ? undefined : `exited with ${child.exitCode}`), 30_000);
  } catch (error) {
    await stop();
    throw new Error(`${name}: ${(error as Error).message}:\n${stderr}`);
  }
  return { url, pid: child.pid, stop };
}

/** Resolves once `url`/healthz answers 200; fails when `ended` gives a reason, or after `timeoutMs`. */
export async function untilHealthy(url: string, ended: () => string | undefined, timeoutMs: number): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; ; await new Promise((resolve) => setTimeout(resolve, 20))) {
    const reason = ended();
    if (reason !== undefined) throw new Error(reason);
    if (
      await fetch(`${url}/healthz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    if (Date.now() > deadline) throw new Error(`not healthy within ${timeoutMs} ms`);
  }
}
