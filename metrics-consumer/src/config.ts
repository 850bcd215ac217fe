import { authSpecs, checkAuthConfig, peerTokenSpec } from "@eskit/server-kit/auth/auth-config.js";
import {
  configDocsOf,
  type ConfigOf,
  type EnvSpec,
  loadEnv,
  logLevelSpec,
  shutdownTimeoutSpec,
  portSpec,
  hostSpec,
  corsOriginsSpec,
} from "@eskit/server-kit/env-config.js";
import { limitsSpecs } from "@eskit/server-kit/limits/limits-config.js";

const specs = {
  port: { ...portSpec(8083), meaning: "TCP port serving /metrics, /healthz and the gRPC health service" },
  host: hostSpec,
  eventStoreUrl: {
    env: "EVENT_STORE_URL",
    kind: "httpUrl",
    default: "http://127.0.0.1:8081",
    meaning: "Base URL of the Event Store whose Application Log is consumed",
  },
  eventStoreToken: peerTokenSpec(
    "EVENT_STORE_TOKEN",
    "Bearer token sent to the Event Store (a full token: the offset is saved there); needed when the Event Store has ESKIT_AUTH_TOKENS",
  ),
  crudStoreUrl: {
    env: "CRUD_STORE_URL",
    kind: "httpUrl",
    default: "http://127.0.0.1:8082",
    meaning: "Base URL of the Crud Store, asked once at start-up for its registered types (retried until it answers)",
  },
  crudStoreToken: peerTokenSpec(
    "CRUD_STORE_TOKEN",
    "Bearer token sent to the Crud Store for ListTypes (a read token suffices); unset = EVENT_STORE_TOKEN",
  ),
  consumerId: {
    env: "CONSUMER_ID",
    kind: "string",
    default: "metrics-consumer",
    meaning: "Consumer id under which the offset is saved in the Event Store and resumed from",
  },
  maxLabelValues: {
    env: "ESKIT_METRICS_MAX_LABEL_VALUES",
    kind: "int",
    min: 1,
    max: 1000000,
    default: 1000,
    meaning: "Most distinct values kept per label (entity_type, event_type); further new values are counted as other",
  },
  lagIntervalMs: {
    env: "ESKIT_LAG_INTERVAL_MS",
    kind: "int",
    min: 100,
    max: 600000,
    default: 5000,
    meaning:
      "How often the log head is read (GetHead) to compute the lag, in ms; /healthz fails after 3 intervals without an answer",
  },
  corsOrigins: corsOriginsSpec,
  authTokens: {
    ...authSpecs.authTokens,
    meaning:
      "Comma-separated bearer tokens accepted on GET /metrics when ESKIT_METRICS_AUTH=token (this service's only RPC, health, is open)",
  },
  readTokens: {
    ...authSpecs.readTokens,
    meaning: "Comma-separated bearer tokens also accepted on GET /metrics when ESKIT_METRICS_AUTH=token",
  },
  metricsAuth: authSpecs.metricsAuth,
  maxStreams: {
    ...limitsSpecs.maxStreams,
    meaning:
      "Most server streams (Health/Watch) open at once in the process; one more is refused at once with resource_exhausted",
  },
  defaultDeadlineMs: limitsSpecs.defaultDeadlineMs,
  headersTimeoutMs: limitsSpecs.headersTimeoutMs,
  requestBodyTimeoutMs: limitsSpecs.requestBodyTimeoutMs,
  logLevel: logLevelSpec,
  shutdownTimeoutMs: {
    ...shutdownTimeoutSpec,
    meaning: "How long shutdown waits for the final offset save and in-flight requests, in ms",
  },
} as const satisfies Record<string, EnvSpec>;

/** Everything the Metrics Consumer reads from its environment, parsed and validated once at start-up. */
export type MetricsConsumerConfig = ConfigOf<typeof specs>;

/** One row per environment variable, in declaration order; the README's table is checked against it. */
export const configDocs = configDocsOf(specs);

/** Parse and validate the configuration from `env`; throws one ConfigError naming every invalid variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): MetricsConsumerConfig {
  const config = loadEnv(specs, env, (config, problems) => {
    if (config.consumerId.length > 255)
      problems.push(`CONSUMER_ID must be 1 to 255 characters, got ${config.consumerId.length}`);
    checkAuthConfig(config, problems);
  });
  return { ...config, crudStoreToken: config.crudStoreToken ?? config.eventStoreToken };
}
