import { type AuthConfig, authSpecs, checkAuthConfig } from "@eskit/server-kit/auth/auth-config.js";
import {
  ConfigError,
  configDocsOf,
  type EnvSpec,
  type LogLevel,
  loadEnv,
  logLevelSpec,
  shutdownTimeoutSpec,
  portSpec,
  hostSpec,
  corsOriginsSpec,
} from "@eskit/server-kit/env-config.js";
import { type LimitsConfig, limitsSpecs } from "@eskit/server-kit/limits/limits-config.js";

export { ConfigError, type LogLevel };

/**
 * Everything the event store reads from its environment, parsed and validated
 * once at start-up so the rest of the code never sees a raw string.
 */
export interface EventStoreConfig extends AuthConfig, LimitsConfig {
  port: number;
  host: string;
  /** PostgreSQL URL; when unset the store runs on embedded PGlite under `dataDir`. */
  databaseUrl: string | undefined;
  dataDir: string;
  /** Browser origins allowed by CORS; `["*"]` allows any origin. */
  corsOrigins: string[];
  maxEventBytes: number;
  maxRequestBytes: number;
  dbPoolSize: number;
  /** How long dialling one PostgreSQL connection may take before the attempt fails, in ms. */
  dbConnectTimeoutMs: number;
  /** How long start-up keeps retrying an unreachable PostgreSQL before the process gives up, in ms. */
  dbStartupTimeoutMs: number;
  appendBatchMaxEvents: number;
  maxEventsPerRequest: number;
  /** Interval of the slow safety poll of the log tail, in case a NOTIFY was missed. */
  pollFallbackMs: number;
  logLevel: LogLevel;
  shutdownTimeoutMs: number;
}

const specs = {
  port: portSpec(8081),
  host: hostSpec,
  databaseUrl: {
    env: "DATABASE_URL",
    kind: "postgresUrl",
    default: undefined,
    meaning: "PostgreSQL URL (postgres:// or postgresql://); unset = embedded PGlite in ESKIT_DATA_DIR",
  },
  dataDir: {
    env: "ESKIT_DATA_DIR",
    kind: "string",
    default: "./data",
    meaning: "Directory of the embedded PGlite database (used when DATABASE_URL is unset)",
  },
  corsOrigins: corsOriginsSpec,
  ...authSpecs,
  maxEventBytes: {
    env: "ESKIT_MAX_EVENT_BYTES",
    kind: "int",
    min: 1,
    default: 1048576,
    meaning: "Largest accepted payload of one event, in bytes (larger → resource_exhausted)",
  },
  maxRequestBytes: {
    env: "ESKIT_MAX_REQUEST_BYTES",
    kind: "int",
    min: 1,
    default: 4194304,
    meaning: "Largest accepted sum of the payloads of one Append request, in bytes (larger → resource_exhausted)",
  },
  dbPoolSize: {
    env: "ESKIT_DB_POOL_SIZE",
    kind: "int",
    min: 1,
    max: 1000,
    default: 10,
    meaning: "PostgreSQL connection pool size",
  },
  dbConnectTimeoutMs: {
    env: "ESKIT_DB_CONNECT_TIMEOUT_MS",
    kind: "int",
    min: 100,
    max: 600000,
    default: 5000,
    meaning:
      "How long dialling one PostgreSQL connection may take, in ms; past it the attempt fails (calls waiting for it → unavailable)",
  },
  dbStartupTimeoutMs: {
    env: "ESKIT_DB_STARTUP_TIMEOUT_MS",
    kind: "int",
    min: 0,
    max: 3600000,
    default: 60000,
    meaning:
      "How long start-up retries an unreachable PostgreSQL (each attempt logged, /healthz 503 meanwhile) before the process exits 1, in ms",
  },
  appendBatchMaxEvents: {
    env: "ESKIT_APPEND_BATCH_MAX_EVENTS",
    kind: "int",
    min: 1,
    max: 100000,
    default: 2000,
    meaning: "Group commit: concurrent Append requests share one transaction until it holds this many events",
  },
  maxEventsPerRequest: {
    env: "ESKIT_MAX_EVENTS_PER_REQUEST",
    kind: "int",
    min: 1,
    max: 1000000,
    default: 10000,
    meaning: "Most events in one Append request (more → resource_exhausted)",
  },
  ...limitsSpecs,
  pollFallbackMs: {
    env: "ESKIT_POLL_FALLBACK_MS",
    kind: "int",
    min: 10,
    max: 60000,
    default: 1000,
    meaning: "Interval of the slow fallback poll of the log tail, in ms",
  },
  logLevel: logLevelSpec,
  shutdownTimeoutMs: shutdownTimeoutSpec,
} as const satisfies Record<keyof EventStoreConfig, EnvSpec>;

/**
 * One row per environment variable, in declaration order; the README's
 * configuration table is generated from (and checked against) it.
 */
export const configDocs = configDocsOf(specs);

/**
 * Parse and validate the configuration from `env`. Throws one `ConfigError`
 * naming every invalid variable; empty values count as unset.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): EventStoreConfig {
  return loadEnv<EventStoreConfig>(specs, env, (config, problems) => {
    checkAuthConfig(config, problems);
    if (config.maxEventBytes > config.maxRequestBytes) {
      problems.push(
        `ESKIT_MAX_EVENT_BYTES must be <= ESKIT_MAX_REQUEST_BYTES (${config.maxRequestBytes}), got "${config.maxEventBytes}"`,
      );
    }
  });
}
