import type { ConnectRouter } from "@connectrpc/connect";
import { CrudStoreService as CrudStoreServiceV1 } from "@eskit/gen/contracts/crudstore/service_pb.js";
import { CrudStoreService } from "@eskit/gen/eskit/crudstore/v1/crud_store_pb.js";
import { Health } from "@eskit/gen/grpc/health/v1/health_pb.js";
import { healthService } from "@eskit/server-kit/health-service.js";
import { startHttpServer } from "@eskit/server-kit/http/http-server.js";
import { type Logger, silentLogger } from "@eskit/server-kit/logger.js";
import { errorInterceptor } from "@eskit/server-kit/error-interceptor.js";
import { loggingInterceptor } from "@eskit/server-kit/logging-interceptor.js";
import { clientCallsInterceptor } from "@eskit/server-kit/metrics/client-call-metrics.js";
import { createMetricsRegistry } from "@eskit/server-kit/metrics/registry.js";
import { crudStoreAccess } from "./rpc-access.js";
import { crudStoreV1Service } from "./compat-v1/crud-store-v1-service.js";
import type { CrudStoreConfig } from "./config.js";
import { EventStoreGateway } from "./gateway/event-store-gateway.js";
import { TypeCache } from "./registry/type-cache.js";
import { TypeRegistry } from "./registry/type-registry.js";
import { crudStoreErrors } from "./rpc/connect-errors.js";
import { crudStoreService } from "./rpc/crud-store-service.js";
import { DocumentStore } from "./store/documents.js";
import { RecentStates } from "./store/recent-states.js";
import { StateReader } from "./store/state-reader.js";

/**
 * The type cache's follower of the log is taken for dead after this long without a message: three of the Event
 * Store's default heartbeats (ESKIT_LOGS_POLL_HEARTBEAT_MS, 15 s). Its cache is bounded by ESKIT_TYPE_CACHE_MAX_AGE_MS
 * all the same.
 */
const typeFollowerSilenceMs = 45_000;
/** First wait before the follower starts again after a failure (doubling up to 8 s). */
const typeFollowerRetryMs = 500;

/** A running Crud Store: where it listens, and how to stop it. */
export interface RunningCrudStore {
  readonly url: string;
  readonly port: number;
  /** Stops accepting, lets running requests finish, then closes the connection to the Event Store. */
  close(): Promise<void>;
}

/**
 * Wires the Crud Store together: a client of the Event Store (its only storage), the document store and type
 * registry on it, and one HTTP server answering gRPC, gRPC-Web and Connect, plus `GET /metrics` (its RPCs and its
 * calls to the Event Store). It starts even while the Event Store is down: requests then fail with `unavailable` and
 * `/healthz` answers 503 until it is back.
 */
export async function startCrudStore(
  config: CrudStoreConfig,
  logger: Logger = silentLogger,
): Promise<RunningCrudStore> {
  const metrics = createMetricsRegistry();
  const eventStoreCalls = clientCallsInterceptor(metrics, {
    name: "eskit_crud_event_store_calls_total",
    help: "Calls of the Crud Store to the Event Store, by method and outcome code (ok or the Connect error code).",
  });
  const gateway = new EventStoreGateway({
    baseUrl: config.eventStoreUrl,
    defaultTimeoutMs: config.eventStoreTimeoutMs,
    token: config.eventStoreToken,
    interceptors: [eventStoreCalls],
  });
  const states = new StateReader(gateway, config.snapshotEvery, logger);
  const typeCache = new TypeCache(
    gateway,
    {
      maxAgeMs: config.typeCacheMaxAgeMs,
      maxEntries: config.typeCacheMaxTypes,
      silenceMs: typeFollowerSilenceMs,
      retryMs: typeFollowerRetryMs,
    },
    logger,
  );
  typeCache.start();
  const registry = new TypeRegistry(gateway, typeCache);
  const recent = new RecentStates(config.documentCacheMaxBytes);
  const documents = new DocumentStore(gateway, states, registry, config.maxDocumentDepth, recent);
  const routes = (router: ConnectRouter) => {
    const deps = { gateway, documents, states, registry };
    router.service(CrudStoreService, crudStoreService(deps));
    // The original v1 contract (package contracts.crudstore), for clients not yet moved: the same core behind it.
    router.service(CrudStoreServiceV1, crudStoreV1Service(deps));
    router.service(
      Health,
      healthService(() => gateway.ping(), { services: [CrudStoreService.typeName, CrudStoreServiceV1.typeName] }),
    );
  };
  const server = await startHttpServer({
    port: config.port,
    host: config.host,
    routes,
    access: crudStoreAccess,
    interceptors: [loggingInterceptor(logger, { slowCallMs: config.slowCallMs }), errorInterceptor(crudStoreErrors)],
    corsOrigins: config.corsOrigins,
    healthz: () => gateway.ping(),
    readMaxBytes: config.maxRequestBytes,
    auth: { authTokens: config.authTokens, readTokens: config.readTokens, metricsAuth: config.metricsAuth },
    limits: config,
    logger,
    metrics,
  });
  logger.info("crud store listening", {
    url: server.url,
    event_store_url: config.eventStoreUrl,
    event_store_token: config.eventStoreToken === undefined ? "none" : "set",
  });
  return {
    url: server.url,
    port: server.port,
    async close() {
      await server.close({ timeoutMs: config.shutdownTimeoutMs });
      await states.drain();
      await typeCache.stop();
      gateway.close();
      logger.info("crud store stopped");
    },
  };
}
