import { startEventStore } from "./app.js";
import { ConfigError, loadConfig } from "./config.js";
import { createLogger } from "./logger.js";

// The Event Store as a process: configuration from the environment, JSON logs on stdout, a clean stop on
// SIGTERM/SIGINT (exit 0), a clear message and exit 2 on bad configuration.
let config;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`eskit event-store: invalid configuration\n${error.message}\n`);
  process.exit(2);
}
const logger = createLogger({ level: config.logLevel, base: { service: "event-store" } });
const store = await startEventStore(config, logger).catch((error: unknown) => {
  logger.error("start-up failed", { error: String(error) });
  process.exit(1);
});
let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  logger.info("stopping", { signal });
  const deadline = setTimeout(() => {
    logger.error("stop took too long; exiting");
    process.exit(1);
  }, 10_000);
  deadline.unref();
  store.close().then(
    () => process.exit(0),
    (error: unknown) => {
      logger.error("stop failed", { error: String(error) });
      process.exit(1);
    },
  );
};
process.on("SIGTERM", () => stop("SIGTERM"));
process.on("SIGINT", () => stop("SIGINT"));
