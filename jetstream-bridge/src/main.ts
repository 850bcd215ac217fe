import { runService, type ServiceProcess } from "@eskit/server-kit/run-service.js";
import { startJetStreamBridge } from "./app.js";
import { loadConfig, type JetStreamBridgeConfig } from "./config.js";

const service: ServiceProcess<JetStreamBridgeConfig> = {
  name: "jetstream-bridge",
  loadConfig: () => loadConfig(),
  // Stopping waits for the publishes in flight and the final offset save, then closes the server (each up to the timeout).
  stopDeadlineMs: (config) => 2 * config.shutdownTimeoutMs + config.ackTimeoutMs + 2000,
  start: startJetStreamBridge,
};
await runService(service);
