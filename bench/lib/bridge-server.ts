import { startChildService, untilHealthy } from "./child-service.js";
import type { BenchConfig } from "./config.js";
import { type BenchServer, freePort } from "./event-store-server.js";

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
  return startChildService(config, "jetstream bridge", "jetstream-bridge/src/main.ts", port, env);
}
