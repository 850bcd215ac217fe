import type { ConnectRouter } from "@connectrpc/connect";
import { createConsumerClient, createCrudClient, createEventStoreClient, createLogConsumer } from "@eskit/client";
import { createNodeTransport } from "@eskit/client/node.js";
import { Health } from "@eskit/gen/grpc/health/v1/health_pb.js";
import { healthService } from "@eskit/server-kit/health-service.js";
import { startHttpServer } from "@eskit/server-kit/http/http-server.js";
import { type Logger, silentLogger } from "@eskit/server-kit/logger.js";
import { createMetricsRegistry } from "@eskit/server-kit/metrics/registry.js";
import type { MetricsConsumerConfig } from "./config.js";
import { countingHandler } from "./consumer/counting-handler.js";
import { CrudTypes } from "./consumer/crud-types.js";
import { HeadPoller } from "./consumer/head-poller.js";
import { loadCrudTypes } from "./consumer/load-crud-types.js";
import { runSupervised } from "./consumer/supervised-consumer.js";
import { EventMetrics } from "./metrics/event-metrics.js";
import { PositionMetrics } from "./metrics/position-metrics.js";

/** A running Metrics Consumer: where it listens, and how to stop it. */
export interface RunningMetricsConsumer {
  readonly url: string;
  readonly port: number;
  /** Stops consuming (the final offset is saved first), then closes the server and the connections. */
  close(): Promise<void>;
}

/** Silence after which the Event Store counts as unreachable, in lag intervals (each interval asks GetHead once). */
const healthWindowIntervals = 3;

/**
 * Wires the Metrics Consumer together: a consumer of the whole Application Log (resuming from its saved offset) that
 * counts every event into Prometheus metrics, served on `GET /metrics`. The log is consumed only once the Crud
 * Store's types are known, since whether an event counts as a Crud Store event depends on them; until then, and
 * whenever the Event Store has not answered for three lag intervals, `/healthz` answers 503. It starts even while
 * both stores are down, and catches up once they are back.
 */
export async function startMetricsConsumer(
  config: MetricsConsumerConfig,
  logger: Logger = silentLogger,
): Promise<RunningMetricsConsumer> {
  const registry = createMetricsRegistry();
  const events = new EventMetrics(registry, config.consumerId, config.maxLabelValues);
  const position = new PositionMetrics(registry, config.consumerId);
  const eventStoreTransport = createNodeTransport({
    baseUrl: config.eventStoreUrl,
    protocol: "grpc",
    token: config.eventStoreToken,
  });
  const crudStoreTransport = createNodeTransport({
    baseUrl: config.crudStoreUrl,
    protocol: "grpc",
    token: config.crudStoreToken,
  });
  const eventStore = createEventStoreClient(eventStoreTransport);
  const poller = new HeadPoller(eventStore, config.lagIntervalMs, (head) => position.headIs(head), logger);
  const state = { typesLoaded: false, consuming: false };
  const healthy = async () =>
    state.typesLoaded && state.consuming && poller.answeredWithin(healthWindowIntervals * config.lagIntervalMs);

  const routes = (router: ConnectRouter) => {
    router.service(Health, healthService(healthy, { services: [] }));
  };
  const server = await startHttpServer({
    port: config.port,
    host: config.host,
    routes,
    corsOrigins: config.corsOrigins,
    healthz: healthy,
    // Its only requests are health checks: 64 KiB is plenty.
    readMaxBytes: 64 * 1024,
    auth: { authTokens: config.authTokens, readTokens: config.readTokens, metricsAuth: config.metricsAuth },
    limits: config,
    logger,
    metrics: registry,
  });
  logger.info("metrics consumer listening", {
    url: server.url,
    event_store_url: config.eventStoreUrl,
    crud_store_url: config.crudStoreUrl,
    consumer_id: config.consumerId,
    event_store_token: config.eventStoreToken === undefined ? "none" : "set",
    crud_store_token: config.crudStoreToken === undefined ? "none" : "set",
  });

  const stop = new AbortController();
  poller.start();
  const consuming = (async () => {
    const initial = await loadCrudTypes(createCrudClient(crudStoreTransport), {
      signal: stop.signal,
      timeoutMs: 10_000,
      logger,
    });
    if (initial === undefined) return;
    const types = new CrudTypes(initial);
    state.typesLoaded = true;
    logger.info("crud store types loaded", { types: types.size });
    // For the offset gauge before the first entry arrives; the consumer reads the same offset to resume from it.
    void createConsumerClient(eventStoreTransport)
      .getOffset(config.consumerId, { signal: stop.signal, timeoutMs: 10_000 })
      .then(
        (saved) => position.resumedAt(saved?.offset ?? 0n),
        () => {},
      );
    const count = countingHandler({ types, events, position, logger });
    await runSupervised({
      consumer: createLogConsumer(eventStoreTransport),
      options: {
        consumerId: config.consumerId,
        start: "saved",
        // A crash re-counts at most what was processed since the last save: this many entries, or this long.
        saveEveryEntries: 100,
        saveIntervalMs: 1000,
        finalSaveTimeoutMs: config.shutdownTimeoutMs,
        onReconnect: (error, delayMs, attempt) => {
          position.reconnected();
          logger.warn("log stream interrupted; reconnecting", { error: String(error), delay_ms: delayMs, attempt });
        },
        onOffsetSaved: (offset) => {
          poller.contact();
          logger.debug("offset saved", { offset });
        },
      },
      handler: (entry) => {
        poller.contact();
        count(entry);
      },
      signal: stop.signal,
      logger,
      onRunning: (running) => (state.consuming = running),
    });
  })();

  let closing: Promise<void> | undefined;
  return {
    url: server.url,
    port: server.port,
    close: () =>
      (closing ??= (async () => {
        stop.abort();
        await consuming;
        state.consuming = false;
        await poller.stop();
        await server.close({ timeoutMs: config.shutdownTimeoutMs });
        eventStoreTransport.close();
        crudStoreTransport.close();
        logger.info("metrics consumer stopped");
      })()),
  };
}
