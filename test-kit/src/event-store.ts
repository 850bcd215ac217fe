/**
 * Helpers for the event store's end-to-end tests: real servers on free ports, each on its own database, and
 * clients for every protocol the store speaks, built from the published client package so the tests exercise
 * what users run.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import {
  createConsumerClient,
  createEventStoreClient,
  createHealthClient,
  type ConsumerClient,
  type EventStoreClient,
  type HealthClient,
} from "@eskit/client";
import { createNodeTransport } from "@eskit/client/node.js";
import { startEventStore } from "@eskit/event-store/app.js";
import { loadConfig, type EventStoreConfig, type LogLevel } from "@eskit/event-store/config.js";
import { createLogger, silentLogger, type Logger } from "@eskit/server-kit/logger.js";
import { spawnService, type SpawnedService } from "./service-process.js";

export { freePort, repoRoot } from "./service-process.js";

/** Every protocol the store serves on its one port; e2e tests run once per protocol. */
export const protocols = ["connect", "grpc", "grpc-web"] as const;
export type Protocol = (typeof protocols)[number];

/** The three service clients over one transport; `close()` drops its connections. */
export interface Clients {
  eventStore: EventStoreClient;
  consumers: ConsumerClient;
  health: HealthClient;
  close(): void;
}

/**
 * Clients the way each kind of user connects: Connect as JSON over HTTP/1.1 (a browser or curl), gRPC over
 * HTTP/2 (other services), gRPC-Web as binary over HTTP/1.1 (a browser through a gRPC-Web client). `token` is sent
 * as `Authorization: Bearer` with every call.
 */
export function clientsFor(baseUrl: string, protocol: Protocol, token?: string): Clients {
  const transport =
    protocol === "grpc"
      ? createNodeTransport({ baseUrl, protocol, httpVersion: "2", token })
      : protocol === "grpc-web"
        ? createNodeTransport({ baseUrl, protocol, httpVersion: "1.1", binary: true, token })
        : createNodeTransport({ baseUrl, protocol, httpVersion: "1.1", binary: false, token });
  return {
    eventStore: createEventStoreClient(transport),
    consumers: createConsumerClient(transport),
    health: createHealthClient(transport),
    close: () => transport.close(),
  };
}

// Test database names carry this prefix; dropDatabase refuses anything else so a typo cannot drop real data.
const testDatabasePattern = /^eskit_test_[a-z0-9_]+$/;

/**
 * Creates an empty database on the PostgreSQL server of `serverUrl` (default: `DATABASE_URL`) and returns its
 * URL, so tests that run in parallel, or spawn processes, never see each other's events.
 */
export async function freshDatabaseUrl(serverUrl: string | undefined = process.env["DATABASE_URL"]): Promise<string> {
  if (serverUrl === undefined) {
    throw new Error("freshDatabaseUrl needs a PostgreSQL URL: pass one or set DATABASE_URL");
  }
  const name = `eskit_test_${randomBytes(6).toString("hex")}`;
  const sql = postgres(serverUrl, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`CREATE DATABASE "${name}"`);
  } finally {
    await sql.end({ timeout: 5 });
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * Drops a database made by {@link freshDatabaseUrl}, disconnecting whatever still uses it (a killed server's
 * pool may linger). Connects through the server's `postgres` database, since one cannot drop the database one
 * is connected to.
 */
export async function dropDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  if (!testDatabasePattern.test(name)) {
    throw new Error(`refusing to drop ${JSON.stringify(name)}: not a test database`);
  }
  url.pathname = "/postgres";
  const sql = postgres(url.toString(), { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Storage for one test server (or a series of processes sharing it), and how to remove it afterwards. */
export interface TestStorage {
  /** `DATABASE_URL` or `ESKIT_DATA_DIR`, ready to merge into a child process's environment. */
  env: Record<string, string>;
  /** The same as config fields. */
  config: Pick<EventStoreConfig, "databaseUrl" | "dataDir">;
  remove(): Promise<void>;
}

/**
 * A fresh PostgreSQL database when `DATABASE_URL` is set (CI runs the suite both ways), otherwise a fresh PGlite
 * directory under the system temp dir.
 */
export async function createTestStorage(): Promise<TestStorage> {
  if (process.env["DATABASE_URL"] !== undefined && process.env["DATABASE_URL"] !== "") {
    const databaseUrl = await freshDatabaseUrl();
    return {
      env: { DATABASE_URL: databaseUrl },
      config: { databaseUrl, dataDir: "" },
      remove: once(() => dropDatabase(databaseUrl)),
    };
  }
  const dataDir = await mkdtemp(join(tmpdir(), "eskit-test-"));
  return {
    env: { ESKIT_DATA_DIR: dataDir },
    config: { databaseUrl: undefined, dataDir },
    remove: once(() => rm(dataDir, { recursive: true, force: true })),
  };
}

/** A running in-process event store. */
export interface TestEventStore {
  url: string;
  port: number;
  /** Closes the server, then removes its storage (unless the caller supplied it). Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts the event store in this process on a free port of 127.0.0.1, on its own storage. Passing `databaseUrl`
 * or `dataDir` in `overrides` uses that storage instead and leaves it in place on stop. Logs are dropped unless
 * `ESKIT_TEST_LOG_LEVEL` is set (they then go to stderr).
 */
export async function startTestEventStore(overrides: Partial<EventStoreConfig> = {}): Promise<TestEventStore> {
  const ownStorage = overrides.databaseUrl === undefined && overrides.dataDir === undefined;
  const storage = ownStorage ? await createTestStorage() : undefined;
  const config: EventStoreConfig = {
    ...loadConfig({}),
    port: 0,
    host: "127.0.0.1",
    ...storage?.config,
    ...overrides,
  };
  let server: Awaited<ReturnType<typeof startEventStore>>;
  try {
    server = await startEventStore(config, testLogger());
  } catch (err) {
    await storage?.remove();
    throw err;
  }
  return {
    url: server.url,
    port: server.port,
    stop: once(async () => {
      try {
        await server.close();
      } finally {
        await storage?.remove();
      }
    }),
  };
}

function testLogger(): Logger {
  const level = process.env["ESKIT_TEST_LOG_LEVEL"];
  if (level === undefined || level === "") return silentLogger;
  return createLogger({ level: level as LogLevel, destination: process.stderr, base: { test: true } });
}

/** An event store running as a child process, as in production. */
export interface SpawnedEventStore extends SpawnedService {
  /** SIGTERM, wait for the exit, then remove the storage if this helper created it. */
  stop(): Promise<number | null>;
}

/**
 * Starts `node --import tsx event-store/src/main.ts` with `env` on top of this process's environment, on a port
 * chosen free beforehand, and resolves once `GET /healthz` answers 200. Storage variables of the test runner
 * itself are not inherited: without `DATABASE_URL` or `ESKIT_DATA_DIR` in `env`, the process gets fresh storage
 * (see {@link createTestStorage}) that `stop()` removes. To restart on the same data, make the storage with
 * `createTestStorage()` and pass its `env` to every spawn. `startTimeoutMs` (30 s by default) bounds the wait.
 */
export async function spawnEventStore(
  env: Record<string, string | undefined> = {},
  startTimeoutMs?: number,
): Promise<SpawnedEventStore> {
  const ownStorage = env["DATABASE_URL"] === undefined && env["ESKIT_DATA_DIR"] === undefined;
  const storage = ownStorage ? await createTestStorage() : undefined;
  let service: SpawnedService;
  try {
    service = await spawnService({
      entry: "event-store/src/main.ts",
      env: { ...storage?.env, ...env },
      startTimeoutMs,
    });
  } catch (error) {
    await storage?.remove();
    throw error;
  }
  const removeStorage = once(async () => {
    await service.exited;
    await storage?.remove();
  });
  // Storage this helper made is removed whenever the process ends, not only through stop().
  void service.exited.then(removeStorage);
  return {
    ...service,
    stop: async () => {
      const code = await service.stop();
      await removeStorage();
      return code;
    },
  };
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= fn());
}
