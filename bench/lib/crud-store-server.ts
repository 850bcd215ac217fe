import { startChildService } from "./child-service.js";
import type { BenchConfig } from "./config.js";
import { type BenchServer, freePort } from "./event-store-server.js";

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
  // Healthy means it reaches the Event Store too (its /healthz pings it).
  return startChildService(config, "crud store", "crud-store/src/main.ts", port, env);
}
