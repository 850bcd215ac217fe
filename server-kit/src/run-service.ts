import { ConfigError } from "./env-config.js";
import { createLogger, type Logger } from "./logger.js";
import type { LogLevel } from "./env-config.js";

/** What {@link runService} needs to know about one service. */
export interface ServiceProcess<C extends { logLevel: LogLevel }> {
  /** The service's name, as in log lines and messages (e.g. "event-store"). */
  name: string;
  loadConfig: () => C;
  start: (config: C, logger: Logger) => Promise<{ close(): Promise<void> }>;
  /** How long a stop may take before the process exits 1 anyway. */
  stopDeadlineMs?: number;
}

/**
 * Runs a service as a process, the same way for every ESKIT service: configuration from the environment (a clear
 * message and exit 2 when it is invalid), JSON logs on stdout, and a clean stop on SIGTERM/SIGINT (exit 0).
 */
export async function runService<C extends { logLevel: LogLevel }>(service: ServiceProcess<C>): Promise<void> {
  let config: C;
  try {
    config = service.loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`eskit ${service.name}: invalid configuration\n${error.message}\n`);
    process.exit(2);
  }
  const logger = createLogger({ level: config.logLevel, base: { service: service.name } });
  const running = await service.start(config, logger).catch((error: unknown) => {
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
    }, service.stopDeadlineMs ?? 10_000);
    deadline.unref();
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error("stop failed", { error: String(error) });
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}
