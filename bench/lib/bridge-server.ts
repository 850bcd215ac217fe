import { allocatorEnv } from "@eskit/server-kit/memory/allocator-env.js";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import type { BenchConfig } from "./config.js";
import { type BenchServer, freePort } from "./event-store-server.js";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

/** Where the bridge reads and what it writes. */
export interface BridgeTarget {
  readonly eventStoreUrl: string;
  readonly natsUrl: string;
  readonly stream: string;
  readonly subjectPrefix: string;
  readonly consumerId: string;
  /** JETSTREAM_PUBLISH_WINDOW; the bridge's default when undefined. */
  readonly publishWindow?: number;
}

/**
 * Starts the JetStream bridge the way `startBenchServer` starts the Event Store: by default a child process (`node
 * --import tsx jetstream-bridge/src/main.ts`, as in production, with its own event loop); with BENCH_SERVER=inprocess
 * in this process. Resolves once its /healthz answers 200: NATS connected and a bridging run going on.
 */
export async function startBridgeServer(config: BenchConfig, target: BridgeTarget): Promise<BenchServer> {
  const port = await freePort();
  const env: Record<string, string> = {
    LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
    HOST: "127.0.0.1",
    PORT: String(port),
    EVENT_STORE_URL: target.eventStoreUrl,
    NATS_URL: target.natsUrl,
    JETSTREAM_STREAM: target.stream,
    JETSTREAM_SUBJECT_PREFIX: target.subjectPrefix,
    CONSUMER_ID: target.consumerId,
    ...(target.publishWindow === undefined ? {} : { JETSTREAM_PUBLISH_WINDOW: String(target.publishWindow) }),
  };
  if (config.server === "inprocess") {
    const { loadConfig } = await import("../../jetstream-bridge/src/config.js");
    const { startJetStreamBridge } = await import("../../jetstream-bridge/src/app.js");
    const bridge = await startJetStreamBridge(loadConfig({ ...process.env, ...env }));
    await untilHealthy(bridge.url, () => undefined, 30_000);
    return { url: bridge.url, pid: undefined, stop: () => bridge.close() };
  }
  const flags = config.cpuProfDir === undefined ? [] : ["--cpu-prof", "--cpu-prof-dir", config.cpuProfDir];
  const child = spawn(process.execPath, ["--import", "tsx", ...flags, "jetstream-bridge/src/main.ts"], {
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
    throw new Error(`jetstream bridge: ${String(error)}:\n${stderr}`);
  }
  return { url, pid: child.pid, stop };
}

async function untilHealthy(url: string, ended: () => string | undefined, timeoutMs: number): Promise<void> {
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
