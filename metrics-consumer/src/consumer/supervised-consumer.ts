import type { AppLogEntry, ConsumeOptions, LogConsumer } from "@eskit/client";
import { backoffDelay, sleep } from "@eskit/client/backoff.js";
import type { Logger } from "@eskit/server-kit/logger.js";

/** Options of {@link runSupervised}. */
export interface SupervisedConsumerOptions {
  consumer: LogConsumer;
  options: ConsumeOptions;
  handler: (entry: AppLogEntry) => void;
  /** Stops the consumer: it saves its final offset, then the promise resolves. */
  signal: AbortSignal;
  logger: Logger;
  /** Called with true while a consumer runs, false while it waits to be restarted. */
  onRunning: (running: boolean) => void;
  /** Backoff between restarts (full jitter), in ms. */
  restartBackoff?: { initialDelayMs: number; maxDelayMs: number };
}

/**
 * Keeps a log consumer running until `signal` aborts. The consumer reconnects by itself after transient failures;
 * what ends it otherwise (a permanent error such as `permission_denied`, or a final save that failed) is logged and
 * the consumer is started again from its saved offset after a backoff, so a misconfigured peer shows as an
 * unhealthy service with a log line to explain it, rather than a process that restarts in a loop. Resolves once the
 * last consumer stopped, after its final offset save.
 */
export async function runSupervised(options: SupervisedConsumerOptions): Promise<void> {
  const { logger, signal } = options;
  const backoff = options.restartBackoff ?? { initialDelayMs: 1000, maxDelayMs: 30_000 };
  for (let attempt = 0; !signal.aborted; attempt++) {
    options.onRunning(true);
    try {
      const summary = await options.consumer.consume(options.options, options.handler, { signal });
      logger.info("consumer stopped", {
        consumer_id: options.options.consumerId,
        offset: summary.offset,
        handled: summary.handled,
      });
      return;
    } catch (error) {
      options.onRunning(false);
      if (signal.aborted) {
        logger.error("consumer stopped without saving its final offset", {
          consumer_id: options.options.consumerId,
          error: String(error),
        });
        return;
      }
      const delayMs = backoffDelay(attempt, backoff);
      logger.error("consumer failed; restarting from the saved offset", {
        error: String(error),
        attempt,
        delay_ms: delayMs,
      });
      await sleep(delayMs, signal);
    }
  }
}
