import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "@eskit/server-kit/logger.js";

/** A NATS connection that is retried forever, and whether it is up right now (for /healthz). */
export interface BridgeConnection {
  readonly nc: NatsConnection;
  readonly connected: () => boolean;
}

/**
 * Connects to NATS, waiting for the first connection as long as it takes (the bridge starts before NATS is up, as
 * it does before the Event Store is), then reconnects forever: an outage holds the bridge back, it never ends it.
 * Resolves to undefined when `signal` aborts first (a connection made after that is closed).
 */
export async function connectNats(
  servers: string,
  name: string,
  logger: Logger,
  signal: AbortSignal,
): Promise<BridgeConnection | undefined> {
  const connecting = connect({
    servers: servers.split(",").map((s) => s.trim()),
    name,
    waitOnFirstConnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    // A dead peer is noticed within about 10 s instead of NATS' default 4 minutes.
    pingInterval: 5000,
    maxPingOut: 2,
    // An error is logged by its message; the call stack every request would otherwise capture up front for it cost a
    // tenth of the bridge's CPU while publishing.
    noAsyncTraces: true,
  });
  const stopped = new Promise<undefined>((resolve) => {
    if (signal.aborted) resolve(undefined);
    signal.addEventListener("abort", () => resolve(undefined), { once: true });
  });
  const nc = await Promise.race([connecting, stopped]);
  if (nc === undefined) {
    void connecting.then((late) => late.close()).catch(() => {});
    return undefined;
  }
  let up = true;
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === "disconnect") {
        up = false;
        logger.warn("nats disconnected", { server: status.server });
      } else if (status.type === "reconnect") {
        up = true;
        logger.info("nats reconnected", { server: status.server });
      }
    }
  })();
  logger.info("nats connected", { server: nc.getServer() });
  return { nc, connected: () => up && !nc.isClosed() };
}
