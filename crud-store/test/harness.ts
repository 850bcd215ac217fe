/**
 * Helpers for the Crud Store's end-to-end tests: a real Event Store (PGlite, or a fresh PostgreSQL database when
 * `DATABASE_URL` is set) with a real Crud Store in front of it, both in this process on free ports, and clients for
 * every protocol the Crud Store speaks. The Event Store client is there so tests can check how documents are kept.
 */
import { createClient, type Client } from "@connectrpc/connect";
import { createEventStoreClient, createHealthClient, type EventStoreClient, type HealthClient } from "@eskit/client";
import { createNodeTransport, type NodeTransport } from "@eskit/client/node.js";
import { CrudStoreService } from "@eskit/gen/eskit/crudstore/v1/crud_store_pb.js";
import { createLogger, silentLogger, type Logger } from "@eskit/server-kit/logger.js";
import type { LogLevel } from "@eskit/server-kit/env-config.js";
import type { EventStoreConfig } from "@eskit/event-store/config.js";
import { startTestEventStore, type Protocol, type TestEventStore } from "@eskit/test-kit/event-store.js";
import { startCrudStore } from "../src/app.js";
import { loadConfig, type CrudStoreConfig } from "../src/config.js";

export { protocols, type Protocol } from "@eskit/test-kit/event-store.js";

/** The generated Crud Store client: every RPC, proto in and out. */
export type CrudClient = Client<typeof CrudStoreService>;

/** A Crud Store client and a health client over one transport; `close()` drops its connections. */
export interface CrudClients {
  crud: CrudClient;
  health: HealthClient;
  close(): void;
}

/** Options of {@link startCrudStoreHarness}. */
export interface HarnessOptions {
  /** The Crud Store's `snapshotEvery`; the configuration default when absent. */
  snapshotEvery?: number;
  /**
   * Where the Crud Store finds the Event Store, given the started Event Store: lets a test put a proxy between the
   * two (to cut or slow the network). The Event Store's own URL when absent.
   */
  eventStoreUrl?: (eventStore: TestEventStore) => string | Promise<string>;
  /** Any other configuration of the Crud Store. */
  config?: Partial<CrudStoreConfig>;
  /** Configuration of the Event Store (e.g. its tokens). */
  eventStoreConfig?: Partial<EventStoreConfig>;
}

/** A running Event Store and Crud Store pair. */
export interface CrudStoreHarness {
  /** The Crud Store's base URL. */
  url: string;
  eventStore: TestEventStore;
  /** What the Crud Store was started with. */
  config: CrudStoreConfig;
  /** New clients of the Crud Store over `protocol` (gRPC by default), sending `token` if given; closed by `stop()`. */
  clients(protocol?: Protocol, token?: string): CrudClients;
  /** An Event Store client connected directly (not through any proxy), sending `token` if given; closed by `stop()`. */
  eventStoreClient(token?: string): EventStoreClient;
  /**
   * Starts one more Crud Store on the same Event Store (as when a deployment runs several replicas); `stop()` closes
   * it. Its clients come from the returned function.
   */
  addCrudStore(
    config?: Partial<CrudStoreConfig>,
  ): Promise<{ url: string; clients(protocol?: Protocol, token?: string): CrudClients }>;
  /** Closes every client, the Crud Store, then the Event Store and its storage. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts an Event Store on fresh storage and a Crud Store on it. Logs are dropped unless `ESKIT_TEST_LOG_LEVEL` is
 * set (they then go to stderr).
 */
export async function startCrudStoreHarness(options: HarnessOptions = {}): Promise<CrudStoreHarness> {
  const eventStore = await startTestEventStore(options.eventStoreConfig);
  const transports: NodeTransport[] = [];
  let crudStore: Awaited<ReturnType<typeof startCrudStore>>;
  let config: CrudStoreConfig;
  try {
    const eventStoreUrl =
      options.eventStoreUrl === undefined ? eventStore.url : await options.eventStoreUrl(eventStore);
    config = {
      ...loadConfig({}),
      port: 0,
      host: "127.0.0.1",
      eventStoreUrl,
      ...(options.snapshotEvery !== undefined ? { snapshotEvery: options.snapshotEvery } : {}),
      ...options.config,
    };
    crudStore = await startCrudStore(config, testLogger());
  } catch (error) {
    await eventStore.stop();
    throw error;
  }
  const url = crudStore.url;
  const replicas: Array<Awaited<ReturnType<typeof startCrudStore>>> = [];
  let stopped: Promise<void> | undefined;
  const clientsOf = (baseUrl: string, protocol: Protocol, token?: string): CrudClients => {
    const transport = transportFor(baseUrl, protocol, token);
    transports.push(transport);
    return {
      crud: createClient(CrudStoreService, transport),
      health: createHealthClient(transport),
      close: () => transport.close(),
    };
  };
  return {
    url,
    eventStore,
    config,
    clients: (protocol = "grpc", token) => clientsOf(url, protocol, token),
    eventStoreClient(token) {
      const transport = transportFor(eventStore.url, "grpc", token);
      transports.push(transport);
      return createEventStoreClient(transport);
    },
    async addCrudStore(overrides = {}) {
      const replica = await startCrudStore({ ...config, ...overrides }, testLogger());
      replicas.push(replica);
      return { url: replica.url, clients: (protocol = "grpc", token) => clientsOf(replica.url, protocol, token) };
    },
    stop: () =>
      (stopped ??= (async () => {
        for (const transport of transports) transport.close();
        try {
          await Promise.all([crudStore.close(), ...replicas.map((replica) => replica.close())]);
        } finally {
          await eventStore.stop();
        }
      })()),
  };
}

/**
 * The transport each kind of user has: Connect as JSON over HTTP/1.1 (a browser or curl), gRPC over HTTP/2 (other
 * services), gRPC-Web as binary over HTTP/1.1 (a browser through a gRPC-Web client).
 */
export function transportFor(baseUrl: string, protocol: Protocol, token?: string): NodeTransport {
  return protocol === "grpc"
    ? createNodeTransport({ baseUrl, protocol, httpVersion: "2", token })
    : protocol === "grpc-web"
      ? createNodeTransport({ baseUrl, protocol, httpVersion: "1.1", binary: true, token })
      : createNodeTransport({ baseUrl, protocol, httpVersion: "1.1", binary: false, token });
}

/** `GET /healthz` of `baseUrl`: its status and parsed body. */
export async function healthz(baseUrl: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(10_000) });
  return { status: response.status, body: await response.json() };
}

function testLogger(): Logger {
  const level = process.env["ESKIT_TEST_LOG_LEVEL"];
  if (level === undefined || level === "") return silentLogger;
  return createLogger({
    level: level as LogLevel,
    destination: process.stderr,
    base: { test: true, service: "crud-store" },
  });
}
