import { authSpecs, checkAuthConfig, peerTokenSpec } from "@eskit/server-kit/auth/auth-config.js";
import {
  configDocsOf,
  type ConfigOf,
  type EnvSpec,
  loadEnv,
  logLevelSpec,
  slowCallSpec,
  shutdownTimeoutSpec,
  portSpec,
  hostSpec,
  corsOriginsSpec,
} from "@eskit/server-kit/env-config.js";
import { limitsSpecs } from "@eskit/server-kit/limits/limits-config.js";

const specs = {
  port: portSpec(8082),
  host: hostSpec,
  eventStoreUrl: {
    env: "EVENT_STORE_URL",
    kind: "httpUrl",
    default: "http://127.0.0.1:8081",
    meaning: "Base URL of the Event Store (the Crud Store keeps no database of its own)",
  },
  eventStoreToken: peerTokenSpec(
    "EVENT_STORE_TOKEN",
    "Bearer token the Crud Store sends to the Event Store (a full token: it writes); needed when the Event Store has ESKIT_AUTH_TOKENS",
  ),
  snapshotEvery: {
    env: "ESKIT_SNAPSHOT_EVERY",
    kind: "int",
    min: 0,
    max: 1000000,
    default: 50,
    meaning:
      "Keep a snapshot of a document every this many versions, so reading the latest version replays at most this many events; 0 = never",
  },
  eventStoreTimeoutMs: {
    env: "ESKIT_EVENT_STORE_TIMEOUT_MS",
    kind: "int",
    min: 1,
    max: 600000,
    default: 10000,
    meaning: "Deadline of each call to the Event Store when the caller gave none, in ms",
  },
  documentCacheMaxBytes: {
    env: "ESKIT_DOCUMENT_CACHE_MAX_BYTES",
    kind: "int",
    min: 0,
    max: 68719476736,
    default: 67108864,
    meaning:
      "Size (JSON text) of the latest document states a replica keeps, so that an Update or Delete of a document it wrote or read last is one Append (a write through another replica meanwhile is detected and costs one read); 0 = none",
  },
  typeCacheMaxAgeMs: {
    env: "ESKIT_TYPE_CACHE_MAX_AGE_MS",
    kind: "int",
    min: 0,
    max: 3600000,
    default: 1000,
    meaning:
      "Longest a replica validates writes against a cached type (schema) before reading the registry again, in ms: a type changed on another replica is enforced here within milliseconds through the Application Log, and within this long at worst; 0 = no cache",
  },
  typeCacheMaxTypes: {
    env: "ESKIT_TYPE_CACHE_MAX_TYPES",
    kind: "int",
    min: 1,
    max: 1000000,
    default: 10000,
    meaning: "Most entity types the type cache keeps (the one read longest ago goes first)",
  },
  corsOrigins: corsOriginsSpec,
  ...authSpecs,
  maxRequestBytes: {
    env: "ESKIT_MAX_REQUEST_BYTES",
    kind: "int",
    min: 1,
    default: 4194304,
    meaning:
      "Largest accepted request message, in bytes (a document is also bounded by the Event Store's ESKIT_MAX_EVENT_BYTES)",
  },
  maxDocumentDepth: {
    env: "ESKIT_MAX_DOCUMENT_DEPTH",
    kind: "int",
    min: 1,
    max: 200,
    default: 100,
    meaning:
      "Deepest nesting of arrays and objects in a document (deeper → invalid_argument); a JSON Schema nests at most 512",
  },
  ...limitsSpecs,
  logLevel: logLevelSpec,
  slowCallMs: slowCallSpec,
  shutdownTimeoutMs: shutdownTimeoutSpec,
} as const satisfies Record<string, EnvSpec>;

/** Everything the Crud Store reads from its environment, parsed and validated once at start-up. */
export type CrudStoreConfig = ConfigOf<typeof specs>;

/** One row per environment variable, in declaration order; docs/configuration.md's table is checked against it. */
export const configDocs = configDocsOf(specs);

/** Parse and validate the configuration from `env`; throws one ConfigError naming every invalid variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): CrudStoreConfig {
  return loadEnv(specs, env, checkAuthConfig);
}
