import type { ConnectRouter } from "@connectrpc/connect";
import { createConsumerClient, createEventStoreClient, createLogConsumer } from "@eskit/client";
import { createNodeTransport } from "@eskit/client/node.js";
import { Health } from "@eskit/gen/grpc/health/v1/health_pb.js";
import { healthService } from "@eskit/server-kit/health-service.js";
import { startHttpServer } from "@eskit/server-kit/http/http-server.js";
import { type Logger, silentLogger } from "@eskit/server-kit/logger.js";
import { createMetricsRegistry } from "@eskit/server-kit/metrics/registry.js";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { backoffDelay, sleep } from "@eskit/client/backoff.js";
import { BridgeMetrics } from "./bridge/bridge-metrics.js";
import { ensureStream } from "./bridge/ensure-stream.js";
import { pollHead } from "./bridge/head-poller.js";
import { connectNats, type BridgeConnection } from "./bridge/nats-connection.js";
import { OrderedPublisher } from "./bridge/ordered-publisher.js";
import { runBridge } from "./bridge/run-bridge.js";
import type { JetStreamBridgeConfig } from "./config.js";

/** A running bridge: where its /healthz and /metrics are, and how to stop it. */
export interface RunningJetStreamBridge {
  readonly url: string;
  readonly port: number;
  /** Stops bridging (the publishes in flight end, the final offset is saved), then closes NATS and the server. */
  close(): Promise<void>;
}

const backoff = { initialDelayMs: 100, maxDelayMs: 5000 };

/**
 * Wires the bridge together: an HTTP server for /healthz and /metrics, a NATS connection retried forever, the stream
 * (created when missing), and {@link runBridge} from the Event Store's log into it. `/healthz` answers 200 while NATS
 * is connected and a bridging run is going on. It starts while the Event Store or NATS is down and catches up once
 * both are back.
 */
export async function startJetStreamBridge(
  config: JetStreamBridgeConfig,
  logger: Logger = silentLogger,
): Promise<RunningJetStreamBridge> {
  const registry = createMetricsRegistry();
  const metrics = new BridgeMetrics(registry, config.stream);
  const transport = createNodeTransport({
    baseUrl: config.eventStoreUrl,
    protocol: "grpc",
    token: config.eventStoreToken,
  });
  const state: { connection: BridgeConnection | undefined; running: boolean } = {
    connection: undefined,
    running: false,
  };
  const healthy = async () => state.running && state.connection?.connected() === true;
  const server = await startHttpServer({
    port: config.port,
    host: config.host,
    routes: (router: ConnectRouter) => void router.service(Health, healthService(healthy, { services: [] })),
    corsOrigins: [],
    healthz: healthy,
    readMaxBytes: 64 * 1024,
    auth: { authTokens: config.authTokens, readTokens: config.readTokens, metricsAuth: config.metricsAuth },
    logger,
    metrics: registry,
  });
  logger.info("jetstream bridge listening", {
    url: server.url,
    event_store_url: config.eventStoreUrl,
    nats_url: config.natsUrl,
    stream: config.stream,
    subject_prefix: config.subjectPrefix,
    encoding: config.encoding,
    consumer_id: config.consumerId,
  });

  const stop = new AbortController();
  const head = pollHead(createEventStoreClient(transport), config.lagIntervalMs, (id) => metrics.headIs(id));
  const bridging = (async () => {
    const connection = await connectNats(
      config.natsUrl,
      `eskit-jetstream-bridge/${config.consumerId}`,
      logger,
      stop.signal,
    );
    if (connection === undefined) return;
    state.connection = connection;
    const jsm = await jetstreamManager(connection.nc);
    for (let attempt = 0; !stop.signal.aborted; attempt++) {
      try {
        const outcome = await ensureStream(jsm, config.stream, config.subjectPrefix);
        logger.info(outcome === "created" ? "stream created" : "stream found", { stream: config.stream });
        break;
      } catch (error) {
        const delayMs = backoffDelay(attempt, backoff);
        logger.error("cannot read or create the stream; retrying", { error: String(error), delay_ms: delayMs });
        await sleep(delayMs, stop.signal);
      }
    }
    const publisher = new OrderedPublisher({
      js: jetstream(connection.nc),
      jsm,
      stream: config.stream,
      subjectPrefix: config.subjectPrefix,
      encoding: config.encoding,
      ackTimeoutMs: config.ackTimeoutMs,
      window: config.publishWindow,
      backoff,
      onError: (error, delayMs, attempt) => {
        metrics.publishFailed();
        logger.warn("publish failed; retrying from the stream's last id", {
          error: String(error),
          delay_ms: delayMs,
          attempt,
        });
      },
      onConflict: (error) => {
        metrics.conflicted();
        logger.warn("publish refused: the stream moved on (another bridge?) or NATS forgot its last msg id (restart)", {
          error: String(error),
        });
      },
    });
    await runBridge({
      consumer: createLogConsumer(transport),
      consumers: createConsumerClient(transport),
      consumerId: config.consumerId,
      publisher,
      metrics,
      logger,
      finalSaveTimeoutMs: config.shutdownTimeoutMs,
      restartBackoff: { initialDelayMs: 1000, maxDelayMs: 30_000 },
      onRunning: (running) => (state.running = running),
      signal: stop.signal,
    });
  })().catch((error: unknown) => logger.error("bridge ended", { error: String(error) }));

  let closing: Promise<void> | undefined;
  return {
    url: server.url,
    port: server.port,
    close: () =>
      (closing ??= (async () => {
        stop.abort();
        await bridging;
        state.running = false;
        await head.stop();
        await state.connection?.nc.close();
        await server.close({ timeoutMs: config.shutdownTimeoutMs });
        transport.close();
        logger.info("jetstream bridge stopped");
      })()),
  };
}
