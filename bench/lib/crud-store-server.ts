import { allocatorEnv } from "@eskit/server-kit/memory/allocator-env.js";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import type { BenchConfig } from "./config.js";
import { type BenchServer, freePort } from "./event-store-server.js";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

/**
 * Starts a Crud Store in front of the Event Store at `eventStoreUrl`, the way `startBenchServer` starts the Event
 * Store: by default a child process (`node --import tsx crud-store/src/main.ts`, with `--cpu-prof` when
 * BENCH_CPU_PROF is set), so the load generator, the Crud Store and the Event Store each have their own event loop;
 * with BENCH_SERVER=inprocess in this process.
 */
export async function startCrudStoreServer(
  config: BenchConfig,
  eventStoreUrl: string,
  snapshotEvery: number,
): Promise<BenchServer> {
  const port = await freePort();
  const env: Record<string, string> = {
    LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
    HOST: "127.0.0.1",
    PORT: String(port),
    EVENT_STORE_URL: eventStoreUrl,
    ESKIT_SNAPSHOT_EVERY: String(snapshotEvery),
  };
  if (config.server === "inprocess") {
    const { loadConfig } = await import("../../crud-store/src/config.js");
    const { startCrudStore } = await import("../../crud-store/src/app.js");
    const store = await startCrudStore(loadConfig({ ...process.env, ...env }));
    return { url: store.url, pid: undefined, stop: () => store.close() };
  }
  const flags = config.cpuProfDir === undefined ? [] : ["--cpu-prof", "--cpu-prof-dir", config.cpuProfDir];
  const child = spawn(process.execPath, ["--import", "tsx", ...flags, "crud-store/src/main.ts"], {
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
  for (const deadline = Date.now() + 30_000; ; await new Promise((resolve) => setTimeout(resolve, 100))) {
    if (child.exitCode !== null) throw new Error(`crud store exited with ${child.exitCode}:\n${stderr}`);
    // Healthy means it reaches the Event Store too (its /healthz pings it).
    if (
      await fetch(`${url}/healthz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`crud store did not become healthy within 30 s:\n${stderr}`);
    }
  }
  return { url, pid: child.pid, stop };
}
