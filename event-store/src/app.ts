import type { ConnectRouter } from "@connectrpc/connect";
import { ConsumerService as ConsumerServiceV1 } from "@eskit/gen/contracts/consumerstore/service_pb.js";
import { EventstoreService as EventstoreServiceV1 } from "@eskit/gen/contracts/eventstore/service_pb.js";
import { ConsumerService } from "@eskit/gen/eskit/eventstore/v1/consumer_pb.js";
import { EventStoreService } from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
import { Health } from "@eskit/gen/grpc/health/v1/health_pb.js";
import { eventStoreAccess } from "./rpc-access.js";
import type { EventStoreConfig } from "./config.js";
import { type Logger, silentLogger } from "@eskit/server-kit/logger.js";
import { consumerV1Service } from "./compat-v1/consumer-v1-service.js";
import { eventstoreV1Service } from "./compat-v1/eventstore-v1-service.js";
import { eventStoreErrors } from "./rpc/connect-errors.js";
import { consumerService } from "./rpc/consumer-service.js";
import { eventStoreService } from "./rpc/event-store-service.js";
import { healthService } from "@eskit/server-kit/health-service.js";
import { errorInterceptor } from "@eskit/server-kit/error-interceptor.js";
import { loggingInterceptor } from "@eskit/server-kit/logging-interceptor.js";
import { startHttpServer } from "@eskit/server-kit/http/http-server.js";
import { ByteBudget } from "@eskit/server-kit/limits/byte-budget.js";
import { createMetricsRegistry } from "@eskit/server-kit/metrics/registry.js";
import { connectDatabase } from "./storage/database.js";
import { waitForDatabase } from "./storage/wait-for-database.js";
import { untilReady } from "./rpc/until-ready.js";
import { appendBatchInTransaction } from "./store/append-batch-drizzle.js";
import { AppendBatcher } from "./store/append-batcher.js";
import { eventCount } from "./store/committed-entries.js";
import { LogTail } from "./store/log-tail.js";
import { registerStoreMetrics } from "./store/store-metrics.js";

/** A running Event Store: where it listens, and how to stop it. */
export interface RunningEventStore {
  readonly url: string;
  readonly port: number;
  /** Stops accepting, ends open streams, lets running appends finish, closes the database. */
  close(): Promise<void>;
}

/**
 * Wires the Event Store together: database, the shared log tail, the append batcher, and one HTTP server answering
 * gRPC, gRPC-Web and Connect for the Event Store, Consumer and Health services (and the v1 contracts' Event Store and
 * Consumer services), with `GET /metrics`.
 *
 * The server listens before the database is reached: while start-up retries an unreachable PostgreSQL (see
 * {@link waitForDatabase}), `/healthz` and Health answer "not serving" and every other call `unavailable`. Resolves
 * once the database is migrated and the log tail follows it; rejects (having closed the server) when the database
 * stayed unreachable for `dbStartupTimeoutMs`.
 */
export async function startEventStore(
  config: EventStoreConfig,
  logger: Logger = silentLogger,
): Promise<RunningEventStore> {
  const database = await connectDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: config.dbPoolSize,
    connectTimeoutMs: config.dbConnectTimeoutMs,
  });
  let ready = false;
  const check = (): Promise<boolean> => (ready ? database.ping() : Promise.resolve(false));
  const tail = new LogTail(database, {
    fallbackPollMs: config.pollFallbackMs,
    onError: (error) => logger.warn("log tail fetch failed", { error: String(error) }),
  });
  const registry = createMetricsRegistry();
  const observeCommit = registerStoreMetrics(registry, {
    database,
    tail,
    onHeadError: (error) => logger.warn("metrics: reading the log head failed", { error: String(error) }),
  });
  const batcher = new AppendBatcher(database, {
    parallelism: database.parallelism,
    maxBatchEvents: config.appendBatchMaxEvents,
    ...(config.appendPath === "drizzle-transaction" ? { write: appendBatchInTransaction } : {}),
    onCommit: (written) => {
      tail.committed(written);
      observeCommit(written.length, eventCount(written));
    },
  });
  // One budget for every LogsPoll stream of the process (see stream-log.ts).
  const budget = new ByteBudget(config.streamBufferTotalBytes);
  const routes = (router: ConnectRouter) => {
    const deps = {
      database,
      batcher,
      tail,
      limits: {
        maxEventBytes: config.maxEventBytes,
        maxRequestBytes: config.maxRequestBytes,
        maxEvents: config.maxEventsPerRequest,
      },
      streams: {
        batchBytes: config.streamBufferBytes,
        budget,
        heartbeatMs: config.logsPollHeartbeatMs,
      },
    };
    router.service(EventStoreService, eventStoreService(deps));
    router.service(ConsumerService, consumerService(database));
    // The original ESKIT v1 contracts (package `contracts.*`, so no route clashes with ours), on the same core.
    router.service(EventstoreServiceV1, eventstoreV1Service(deps));
    router.service(ConsumerServiceV1, consumerV1Service(database));
    router.service(
      Health,
      healthService(check, {
        services: [
          EventStoreService.typeName,
          ConsumerService.typeName,
          EventstoreServiceV1.typeName,
          ConsumerServiceV1.typeName,
        ],
      }),
    );
  };
  const server = await startHttpServer({
    port: config.port,
    host: config.host,
    routes,
    access: eventStoreAccess,
    interceptors: [
      loggingInterceptor(logger, { slowCallMs: config.slowCallMs }),
      errorInterceptor(eventStoreErrors),
      untilReady(() => ready, Health.typeName),
    ],
    corsOrigins: config.corsOrigins,
    healthz: check,
    // Room for a request of maxRequestBytes of payloads plus the rest of the events.
    readMaxBytes: config.maxRequestBytes * 2 + 1024 * 1024,
    auth: { authTokens: config.authTokens, readTokens: config.readTokens, metricsAuth: config.metricsAuth },
    limits: config,
    streamStallTimeoutMs: config.streamStallTimeoutMs,
    logger,
    metrics: registry,
  });
  try {
    await waitForDatabase(() => database.migrate(), { timeoutMs: config.dbStartupTimeoutMs, logger });
    await tail.start();
  } catch (error) {
    await server.close({ timeoutMs: 0 });
    await tail.close();
    await database.close();
    throw error;
  }
  ready = true;
  logger.info("database ready", { kind: database.kind });
  logger.info("event store listening", { url: server.url });
  return {
    url: server.url,
    port: server.port,
    async close() {
      await server.close({ timeoutMs: config.shutdownTimeoutMs });
      await tail.close();
      await batcher.drain();
      await database.close();
      logger.info("event store stopped");
    },
  };
}
