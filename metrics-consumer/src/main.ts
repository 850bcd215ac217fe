import { runService, type ServiceProcess } from "@eskit/server-kit/run-service.js";
import { startMetricsConsumer } from "./app.js";
import { loadConfig, type MetricsConsumerConfig } from "./config.js";

const service: ServiceProcess<MetricsConsumerConfig> = {
  name: "metrics-consumer",
  loadConfig: () => loadConfig(),
  // Stopping saves the final offset (up to the shutdown timeout), then closes the server (up to it again).
  stopDeadlineMs: (config) => 2 * config.shutdownTimeoutMs + 2000,
  start: startMetricsConsumer,
};
await runService(service);
