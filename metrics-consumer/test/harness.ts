/**
 * Helpers for the Metrics Consumer's end-to-end tests: a real Event Store and Crud Store (in this process, on fresh
 * storage), the Metrics Consumer in this process or as a child process (as in production, so it can be killed), and
 * ways to append known events and read back what the consumer counted.
 */
import {
  createConsumerClient,
  createEventStoreClient,
  type ConsumerClient,
  type EventStoreClient,
} from "@eskit/client";
import { createNodeTransport } from "@eskit/client/node.js";
import type { LogLevel } from "@eskit/server-kit/env-config.js";
import { createLogger, silentLogger, type Logger } from "@eskit/server-kit/logger.js";
import { startCrudStore } from "@eskit/crud-store/app.js";
import { loadConfig as loadCrudStoreConfig, type CrudStoreConfig } from "@eskit/crud-store/config.js";
import type { EventStoreConfig } from "@eskit/event-store/config.js";
import { startTestEventStore, type TestEventStore } from "@eskit/test-kit/event-store.js";
import { spawnService, type SpawnedService } from "@eskit/test-kit/service-process.js";
import { startMetricsConsumer, type RunningMetricsConsumer } from "../src/app.js";
import { loadConfig, type MetricsConsumerConfig } from "../src/config.js";
import { eventLabels } from "../src/metrics/event-labels.js";
import { sampleValue, scrape, type MetricSample } from "./support/prometheus-text.js";

/** An Event Store and a Crud Store on it, with clients of the Event Store; `stop()` ends all of it. */
export interface Stores {
  eventStore: TestEventStore;
  /** The Crud Store's base URL. */
  crudStoreUrl: string;
  events: EventStoreClient;
  consumers: ConsumerClient;
  /** Starts a Crud Store on this Event Store with `config` (e.g. a fixed port); `stop()` closes it. */
  startCrudStore(config?: Partial<CrudStoreConfig>): Promise<string>;
  stop(): Promise<void>;
}

/** Options of {@link startStores}. */
export interface StoresOptions {
  /** False: no Crud Store. */
  crudStore?: boolean;
  /** Configuration of the Event Store (e.g. its tokens). */
  eventStoreConfig?: Partial<EventStoreConfig>;
  /** Configuration of every Crud Store started (e.g. its tokens and EVENT_STORE_TOKEN). */
  crudStoreConfig?: Partial<CrudStoreConfig>;
  /** Token the `events` and `consumers` clients send to the Event Store. */
  eventStoreToken?: string;
}

/** Starts an Event Store on fresh storage and, unless `crudStore` is false, a Crud Store on it. */
export async function startStores(options: StoresOptions = {}): Promise<Stores> {
  const eventStore = await startTestEventStore(options.eventStoreConfig);
  const transport = createNodeTransport({ baseUrl: eventStore.url, protocol: "grpc", token: options.eventStoreToken });
  const crudStores: Array<{ close(): Promise<void> }> = [];
  const startOne = async (config: Partial<CrudStoreConfig> = {}): Promise<string> => {
    const crud = await startCrudStore(
      {
        ...loadCrudStoreConfig({}),
        port: 0,
        host: "127.0.0.1",
        eventStoreUrl: eventStore.url,
        ...options.crudStoreConfig,
        ...config,
      },
      testLogger("crud-store"),
    );
    crudStores.push(crud);
    return crud.url;
  };
  let crudStoreUrl = "";
  try {
    if (options.crudStore !== false) crudStoreUrl = await startOne();
  } catch (error) {
    await eventStore.stop();
    throw error;
  }
  let stopped: Promise<void> | undefined;
  return {
    eventStore,
    crudStoreUrl,
    events: createEventStoreClient(transport),
    consumers: createConsumerClient(transport),
    startCrudStore: startOne,
    stop: () =>
      (stopped ??= (async () => {
        transport.close();
        try {
          await Promise.all(crudStores.map((c) => c.close()));
        } finally {
          await eventStore.stop();
        }
      })()),
  };
}

/** A Metrics Consumer configuration for tests: 127.0.0.1, a free port, a fast lag poll. */
export function testConfig(
  stores: { eventStore: { url: string }; crudStoreUrl: string },
  overrides: Partial<MetricsConsumerConfig> = {},
): MetricsConsumerConfig {
  return {
    ...loadConfig({}),
    port: 0,
    host: "127.0.0.1",
    eventStoreUrl: stores.eventStore.url,
    crudStoreUrl: stores.crudStoreUrl,
    lagIntervalMs: 200,
    ...overrides,
  };
}

/** Starts the Metrics Consumer in this process. */
export function startTestMetricsConsumer(config: MetricsConsumerConfig): Promise<RunningMetricsConsumer> {
  return startMetricsConsumer(config, testLogger("metrics-consumer"));
}

/** A Metrics Consumer running as a child process. */
export type SpawnedMetricsConsumer = SpawnedService;

/**
 * Starts `node --import tsx metrics-consumer/src/main.ts` with `env` over this process's environment (minus the
 * runner's own PORT/HOST and storage), on a free port, and resolves once `GET /healthz` answers 200.
 */
export function spawnMetricsConsumer(env: Record<string, string>): Promise<SpawnedMetricsConsumer> {
  return spawnService({ entry: "metrics-consumer/src/main.ts", env: { ESKIT_LAG_INTERVAL_MS: "200", ...env } });
}

/** A label set of `eskit_events_*_total`, as "entity_type event_type". */
export type LabelKey = string;

/** Appends events of the given types (one new originator each) and returns their log ids in order. */
export async function appendEvents(
  events: EventStoreClient,
  eventTypes: readonly string[],
  prefix: string,
): Promise<bigint[]> {
  return events.appendEvents(
    eventTypes.map((eventType, i) => ({ originatorId: `${prefix}-${i}`, version: 1n, eventType, payload: { i } })),
  );
}

/** How many of `eventTypes` fall under each label set of `eskit_events_store_total`. */
export function expectedCounts(eventTypes: Iterable<string>): Map<LabelKey, number> {
  const counts = new Map<LabelKey, number>();
  for (const type of eventTypes) {
    const { entityType, eventType } = eventLabels(type);
    const key = `${entityType} ${eventType}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** The samples of counter `name` by label set ("entity_type event_type"). */
export function countsOf(samples: readonly MetricSample[], name: string): Map<LabelKey, number> {
  const counts = new Map<LabelKey, number>();
  for (const s of samples) {
    if (s.name === name) counts.set(`${s.labels["entity_type"]} ${s.labels["event_type"]}`, s.value);
  }
  return counts;
}

/** Scrapes `url` (with `token`, if given) until the consumer's offset gauge reaches `offset`; returns its samples. */
export async function scrapeWhenAt(
  url: string,
  consumerId: string,
  offset: bigint,
  timeoutMs = 20_000,
  token?: string,
): Promise<MetricSample[]> {
  let samples: MetricSample[] = [];
  await waitFor(
    async () => {
      samples = (await scrape(url, token)).samples;
      const at = sampleValue(samples, "eskit_consumer_offset", { consumer_id: consumerId });
      return at !== undefined && at >= Number(offset);
    },
    { timeoutMs, what: `consumer ${consumerId} at offset ${offset}` },
  );
  return samples;
}

/** `GET /healthz`: its status. */
export async function healthzStatus(url: string): Promise<number> {
  const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5000) });
  await response.arrayBuffer();
  return response.status;
}

/** Polls `check` every 100 ms until it is true; throws naming `what` after `timeoutMs`. */
export async function waitFor(
  check: () => Promise<boolean> | boolean,
  options: { timeoutMs: number; what: string },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      last = error;
      if (error instanceof Error && error.message.includes("exited")) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(
    `timed out after ${options.timeoutMs} ms waiting for ${options.what}${last === undefined ? "" : `: ${String(last)}`}`,
  );
}

function testLogger(service: string): Logger {
  const level = process.env["ESKIT_TEST_LOG_LEVEL"];
  if (level === undefined || level === "") return silentLogger;
  return createLogger({ level: level as LogLevel, destination: process.stderr, base: { test: true, service } });
}
