import { authSpecs, checkAuthConfig } from "@eskit/server-kit/auth/auth-config.js";
import {
  ConfigError,
  configDocsOf,
  type ConfigOf,
  type EnvSpec,
  type LogLevel,
  loadEnv,
  logLevelSpec,
  slowCallSpec,
  shutdownTimeoutSpec,
  portSpec,
  hostSpec,
  corsOriginsSpec,
} from "@eskit/server-kit/env-config.js";
import { limitsSpecs } from "@eskit/server-kit/limits/limits-config.js";

export { ConfigError, type LogLevel };

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
  appendPath: {
    env: "ESKIT_APPEND_PATH",
    kind: "enum",
    values: ["statement", "drizzle-transaction"],
    default: "statement",
    meaning:
      "How a batch of appends is written: statement (one checked SQL statement, one round trip) or drizzle-transaction (a Drizzle transaction: reads, insert, commit; kept to be measured beside it, see docs/benchmarks.md)",
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
  streamBufferBytes: {
    env: "ESKIT_STREAM_BUFFER_BYTES",
    kind: "int",
    min: 65536,
    max: 67108864,
    default: 1048576,
    meaning:
      "Most bytes of log entries one LogsPoll stream reads ahead of its client (its largest page; pages start at 16 KiB and double while the client keeps up)",
  },
  streamBufferTotalBytes: {
    env: "ESKIT_STREAM_BUFFER_TOTAL_BYTES",
    kind: "int",
    min: 1048576,
    max: 68719476736,
    default: 134217728,
    meaning:
      "Most bytes of log entries all LogsPoll streams together read ahead of their clients; a stream waits for its share (memory used is about twice this)",
  },
  streamStallTimeoutMs: {
    env: "ESKIT_STREAM_STALL_TIMEOUT_MS",
    kind: "int",
    min: 100,
    max: 86400000,
    default: 60000,
    meaning:
      "A server stream whose client has not taken its last message for this long is cut (HTTP/2 reset ENHANCE_YOUR_CALM, HTTP/1.1 connection closed) and its memory freed, in ms",
  },
  logsPollHeartbeatMs: {
    env: "ESKIT_LOGS_POLL_HEARTBEAT_MS",
    kind: "int",
    min: 0,
    max: 3600000,
    default: 15000,
    meaning:
      "LogsPoll sends an empty message (no entries) after this long without one, so clients can tell a quiet log from a dead connection, in ms; 0 = never",
  },
  logLevel: logLevelSpec,
  slowCallMs: slowCallSpec,
  shutdownTimeoutMs: shutdownTimeoutSpec,
} as const satisfies Record<string, EnvSpec>;

/**
 * Everything the event store reads from its environment, parsed and validated
 * once at start-up so the rest of the code never sees a raw string.
 */
export type EventStoreConfig = ConfigOf<typeof specs>;

/**
 * One row per environment variable, in declaration order; the configuration table of docs/configuration.md is
 * checked against it.
 */
export const configDocs = configDocsOf(specs);

/**
 * Parse and validate the configuration from `env`. Throws one `ConfigError`
 * naming every invalid variable; empty values count as unset.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): EventStoreConfig {
  return loadEnv(specs, env, (config, problems) => {
    checkAuthConfig(config, problems);
    if (config.streamBufferBytes > config.streamBufferTotalBytes) {
      problems.push(
        `ESKIT_STREAM_BUFFER_BYTES must be <= ESKIT_STREAM_BUFFER_TOTAL_BYTES (${config.streamBufferTotalBytes}), got "${config.streamBufferBytes}"`,
      );
    }
    if (config.maxEventBytes > config.maxRequestBytes) {
      problems.push(
        `ESKIT_MAX_EVENT_BYTES must be <= ESKIT_MAX_REQUEST_BYTES (${config.maxRequestBytes}), got "${config.maxEventBytes}"`,
      );
    }
  });
}
