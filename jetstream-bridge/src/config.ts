import { authSpecs, checkAuthConfig, peerTokenSpec } from "@eskit/server-kit/auth/auth-config.js";
import {
  configDocsOf,
  type ConfigOf,
  type EnvSpec,
  hostSpec,
  loadEnv,
  logLevelSpec,
  portSpec,
  shutdownTimeoutSpec,
} from "@eskit/server-kit/env-config.js";

const natsToken = /^[A-Za-z0-9_-]+$/;

const specs = {
  port: { ...portSpec(8084), meaning: "TCP port serving /metrics and /healthz" },
  host: hostSpec,
  eventStoreUrl: {
    env: "EVENT_STORE_URL",
    kind: "httpUrl",
    default: "http://127.0.0.1:8081",
    meaning: "Base URL of the Event Store whose Application Log is bridged",
  },
  eventStoreToken: peerTokenSpec(
    "EVENT_STORE_TOKEN",
    "Bearer token sent to the Event Store (a full token: the offset is saved there); needed when the Event Store has ESKIT_AUTH_TOKENS",
  ),
  natsUrl: {
    env: "NATS_URL",
    kind: "string",
    default: "nats://127.0.0.1:4222",
    meaning: "NATS server(s) with JetStream, comma-separated (nats://host:port); reconnected to forever",
  },
  stream: {
    env: "JETSTREAM_STREAM",
    kind: "string",
    default: "ESKIT_LOG",
    meaning: "JetStream stream the entries go to; created (subjects <prefix>.>) when it does not exist",
  },
  subjectPrefix: {
    env: "JETSTREAM_SUBJECT_PREFIX",
    kind: "string",
    default: "eskit.log",
    meaning: "Subject of an entry: <prefix>.<entity type>.<action> (dots and > inside a name escaped as %2E, %3E)",
  },
  encoding: {
    env: "JETSTREAM_ENCODING",
    kind: "enum",
    values: ["protobuf", "json"],
    default: "protobuf",
    meaning: "Message body: the AppLogEntry in protobuf binary or proto3 JSON (Content-Type header says which)",
  },
  consumerId: {
    env: "CONSUMER_ID",
    kind: "string",
    default: "jetstream-bridge",
    meaning: "Consumer id under which the offset is saved in the Event Store",
  },
  ackTimeoutMs: {
    env: "JETSTREAM_ACK_TIMEOUT_MS",
    kind: "int",
    min: 100,
    max: 600000,
    default: 5000,
    meaning: "How long one publish waits for JetStream's ack before it is retried, in ms",
  },
  publishWindow: {
    env: "JETSTREAM_PUBLISH_WINDOW",
    kind: "int",
    min: 1,
    max: 1024,
    default: 64,
    meaning:
      "Publishes in flight at once, each expecting the one before it as the stream's last (1: each waits for the previous ack)",
  },
  lagIntervalMs: {
    env: "ESKIT_LAG_INTERVAL_MS",
    kind: "int",
    min: 100,
    max: 600000,
    default: 5000,
    meaning: "How often the log head is read (GetHead) for the lag, in ms",
  },
  authTokens: {
    ...authSpecs.authTokens,
    meaning: "Comma-separated bearer tokens accepted on GET /metrics when ESKIT_METRICS_AUTH=token",
  },
  readTokens: {
    ...authSpecs.readTokens,
    meaning: "Comma-separated bearer tokens also accepted on GET /metrics when ESKIT_METRICS_AUTH=token",
  },
  metricsAuth: authSpecs.metricsAuth,
  logLevel: logLevelSpec,
  shutdownTimeoutMs: {
    ...shutdownTimeoutSpec,
    meaning: "How long shutdown waits for the publishes in flight and the final offset save, in ms",
  },
} as const satisfies Record<string, EnvSpec>;

/** Everything the JetStream bridge reads from its environment, parsed and validated once at start-up. */
export type JetStreamBridgeConfig = ConfigOf<typeof specs>;

/** One row per environment variable, in declaration order, for the README's table. */
export const configDocs = configDocsOf(specs);

/** Parse and validate the configuration from `env`; throws one ConfigError naming every invalid variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): JetStreamBridgeConfig {
  return loadEnv(specs, env, (config, problems) => {
    if (config.consumerId.length === 0 || config.consumerId.length > 255)
      problems.push(`CONSUMER_ID must be 1 to 255 characters, got ${config.consumerId.length}`);
    if (!natsToken.test(config.stream))
      problems.push(`JETSTREAM_STREAM must be letters, digits, - and _ only, got ${JSON.stringify(config.stream)}`);
    if (!config.subjectPrefix.split(".").every((token) => natsToken.test(token)))
      problems.push(
        `JETSTREAM_SUBJECT_PREFIX must be dot-separated tokens of letters, digits, - and _, got ${JSON.stringify(config.subjectPrefix)}`,
      );
    checkAuthConfig(config, problems);
  });
}
