import { ConfigError } from "./env-config.js";
import { createLogger, type Logger } from "./logger.js";
import type { LogLevel } from "./env-config.js";

/** What every service's configuration holds that {@link runService} uses. */
export interface ProcessConfig {
  logLevel: LogLevel;
  /** How long shutdown waits for in-flight requests (`ESKIT_SHUTDOWN_TIMEOUT_MS`). */
  shutdownTimeoutMs: number;
}

/**
 * What a stop may take beyond the shutdown timeout before the process exits 1 anyway: aborted calls get their answer
 * out (0.2 s), the log tail and running appends finish, the database pool closes (up to 5 s).
 */
export const stopMarginMs = 10_000;

/** What {@link runService} needs to know about one service. */
export interface ServiceProcess<C extends ProcessConfig> {
  /** The service's name, as in log lines and messages (e.g. "event-store"). */
  name: string;
  loadConfig: () => C;
  start: (config: C, logger: Logger) => Promise<{ close(): Promise<void> }>;
  /**
   * How long a stop may take before the process exits 1 anyway; by default the shutdown timeout plus
   * {@link stopMarginMs}, so a longer ESKIT_SHUTDOWN_TIMEOUT_MS is honoured.
   */
  stopDeadlineMs?: (config: C) => number;
}

/**
 * Runs a service as a process, the same way for every ESKIT service: configuration from the environment (a clear
 * message and exit 2 when it is invalid), JSON logs on stdout, and a clean stop on SIGTERM/SIGINT (exit 0).
 */
export async function runService<C extends ProcessConfig>(service: ServiceProcess<C>): Promise<void> {
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
    const deadlineMs = service.stopDeadlineMs?.(config) ?? config.shutdownTimeoutMs + stopMarginMs;
    const deadline = setTimeout(() => {
      logger.error("stop took too long; exiting", { deadline_ms: deadlineMs });
      process.exit(1);
    }, deadlineMs);
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
