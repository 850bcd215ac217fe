import { Code, ConnectError, type ConsumerClient, type LogConsumer } from "@eskit/client";
import { backoffDelay, sleep, type BackoffOptions } from "@eskit/client/backoff.js";
import type { Logger } from "@eskit/server-kit/logger.js";
import type { BridgeMetrics } from "./bridge-metrics.js";
import { PublishStopped, type OrderedPublisher } from "./ordered-publisher.js";

/** Options of {@link runBridge}. */
export interface RunBridgeOptions {
  consumer: LogConsumer;
  consumers: ConsumerClient;
  consumerId: string;
  publisher: OrderedPublisher;
  metrics: BridgeMetrics;
  logger: Logger;
  finalSaveTimeoutMs: number;
  /** Between restarts of a bridging run that failed (the Event Store refused us, NATS kept failing at start). */
  restartBackoff: BackoffOptions;
  onRunning: (running: boolean) => void;
  signal: AbortSignal;
}

/**
 * Follows the Application Log into the stream until `signal` aborts. Each run starts after the later of the stream's
 * last log id and the saved offset (the offset is raised to the stream's last id first, so a bridge whose offset fell
 * behind, or a new consumer id, does not read the log again from far back), then hands each batch of entries to the
 * publisher, which returns only once all of them are on the stream; the offset (saved every 100 entries or 1 s)
 * therefore never passes an entry that is not there. A run that fails is started again after a backoff, from the
 * same rule.
 */
export async function runBridge(o: RunBridgeOptions): Promise<void> {
  const { logger, signal } = o;
  for (let attempt = 0; !signal.aborted; attempt++) {
    o.onRunning(true);
    try {
      const head = await o.publisher.syncHead();
      const saved = (await o.consumers.getOffset(o.consumerId, { signal, timeoutMs: 10_000 }))?.offset ?? 0n;
      if (head.logId > saved) await o.consumers.saveOffset(o.consumerId, head.logId, { signal, timeoutMs: 10_000 });
      const after = head.logId > saved ? head.logId : saved;
      if (head.logId > 0n) o.metrics.onStream(head.logId, false);
      logger.info("bridging", { after, stream_last_id: head.logId, saved_offset: saved });
      // A batch (one LogsPoll response) is published with several publishes in flight and handed back only once all
      // of it is on the stream, so the offset saved after it never passes an entry that is not there.
      const summary = await o.consumer.consumeBatches(
        {
          consumerId: o.consumerId,
          start: "saved",
          saveEveryEntries: 100,
          saveIntervalMs: 1000,
          finalSaveTimeoutMs: o.finalSaveTimeoutMs,
          onReconnect: (error, delayMs, attempt) =>
            logger.warn("log stream interrupted; reconnecting", { error: String(error), delay_ms: delayMs, attempt }),
        },
        async (entries) => {
          await o.publisher.publishAll(entries, signal, (entry, outcome) =>
            o.metrics.onStream(entry.id, outcome === "published"),
          );
          attempt = 0;
        },
        { signal },
      );
      logger.info("bridge stopped", { offset: summary.offset, handled: summary.handled });
      return;
    } catch (error) {
      o.onRunning(false);
      if (signal.aborted) {
        // A publish cut short by the stop: the offset saved is that of the last entry on the stream.
        if (error instanceof PublishStopped || (error instanceof ConnectError && error.code === Code.Canceled)) {
          logger.info("bridge stopped");
        } else {
          logger.error("bridge stopped without saving its final offset", { error: String(error) });
        }
        return;
      }
      const delayMs = backoffDelay(attempt, o.restartBackoff);
      logger.error("bridge failed; restarting from the stream's last id", {
        error: String(error),
        attempt,
        delay_ms: delayMs,
      });
      await sleep(delayMs, signal);
    }
  }
}
