/**
 * The Event Store the consumer examples run against: a real process (as `make run` starts it) on storage of its own
 * (PostgreSQL when DATABASE_URL is set, else PGlite), restartable on the same storage and port while they run. It
 * sends a LogsPoll heartbeat every 200 ms (15 s by default), so that a test can tell a quiet stream from a dead one
 * in a second.
 */
import { afterAll, beforeAll } from "vitest";
import {
  createConsumerClient,
  createEventStoreClient,
  createLogConsumer,
  type AppLogEntry,
  type ConsumeSummary,
  type ConsumerClient,
  type EventStoreClient,
} from "@eskit/client";
import { createNodeTransport } from "@eskit/client/node.js";
import {
  createTestStorage,
  spawnEventStore,
  type SpawnedEventStore,
  type TestStorage,
} from "@eskit/test-kit/event-store.js";

/** A PGlite start can take many seconds on a busy machine (its data directory is initialised in WebAssembly). */
export const startTimeoutMs = 90_000;

/** The store's environment on top of its storage: see the file's comment. */
const storeEnv = { ESKIT_LOGS_POLL_HEARTBEAT_MS: "200" };

/** The shared store of one test file. */
export interface ExampleEventStore {
  readonly port: number;
  /** http://127.0.0.1:port, for the TypeScript clients. */
  readonly url: string;
  /** 127.0.0.1:port, for the examples' gRPC channels. */
  readonly target: string;
  readonly client: EventStoreClient;
  readonly consumers: ConsumerClient;
  /** The consumer's saved offset; undefined when it never saved one. */
  offsetOf(consumerId: string): Promise<bigint | undefined>;
  /** SIGTERM, wait for the exit, start again on the same storage and port; resolves to the old process's exit code. */
  restart(): Promise<number | null>;
}

/** Starts the store before the file's tests and stops it (and removes its storage) after them. */
export function useExampleEventStore(): ExampleEventStore {
  let storage: TestStorage | undefined;
  let store: SpawnedEventStore | undefined;
  let transport: ReturnType<typeof createNodeTransport> | undefined;
  let client: EventStoreClient | undefined;
  let consumers: ConsumerClient | undefined;
  const running = () => {
    if (store === undefined || client === undefined || consumers === undefined) throw new Error("no Event Store");
    return { store, client, consumers };
  };

  beforeAll(async () => {
    storage = await createTestStorage();
    store = await spawnEventStore({ ...storage.env, ...storeEnv }, startTimeoutMs);
    transport = createNodeTransport({ baseUrl: store.url, protocol: "grpc" });
    client = createEventStoreClient(transport);
    consumers = createConsumerClient(transport);
  }, startTimeoutMs + 30_000);

  afterAll(async () => {
    transport?.close();
    await store?.stop();
    await storage?.remove();
  });

  return {
    get port() {
      return running().store.port;
    },
    get url() {
      return running().store.url;
    },
    get target() {
      return new URL(running().store.url).host;
    },
    get client() {
      return running().client;
    },
    get consumers() {
      return running().consumers;
    },
    async offsetOf(consumerId) {
      return (await running().consumers.getOffset(consumerId))?.offset;
    },
    async restart() {
      const old = running().store;
      const code = await old.stop();
      store = undefined;
      store = await spawnEventStore({ ...storage!.env, ...storeEnv, PORT: String(old.port) }, startTimeoutMs);
      return code;
    },
  };
}

/** The TypeScript helper, `createLogConsumer`, run beside an example as the reference it must match. */
export interface ReferenceConsumer {
  readonly entries: AppLogEntry[];
  /** Resolves once an entry with id `id` or later was handled. */
  waitForId(id: bigint, timeoutMs?: number): Promise<void>;
  /** Stops it (saving its offset) and resolves to its summary. */
  stop(): Promise<ConsumeSummary>;
}

/** Starts `createLogConsumer(...).consume` over gRPC with the helper's defaults (start "saved"). */
export function startReference(url: string, consumerId: string, selector: string): ReferenceConsumer {
  const transport = createNodeTransport({ baseUrl: url, protocol: "grpc" });
  const entries: AppLogEntry[] = [];
  const stop = new AbortController();
  let failure: unknown;
  const done = createLogConsumer(transport)
    .consume({ consumerId, selector }, (entry) => void entries.push(entry), { signal: stop.signal })
    .catch((error: unknown) => {
      failure = error;
      throw error;
    })
    .finally(() => transport.close());
  // Seen through stop() or waitForId, never as an unhandled rejection.
  done.catch(() => {});
  return {
    entries,
    async waitForId(id, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while ((entries.at(-1)?.id ?? 0n) < id) {
        if (failure !== undefined) throw failure;
        if (Date.now() > deadline) throw new Error(`createLogConsumer did not reach log id ${id} in ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    stop() {
      stop.abort();
      return done;
    },
  };
}
