import { randomBytes } from "node:crypto";
import { createClient, type Client } from "@connectrpc/connect";
import { createHealthClient } from "@eskit/client";
import { createNodeTransport } from "@eskit/client/node.js";
import { CrudStoreService } from "@eskit/gen/eskit/crudstore/v1/crud_store_pb.js";
import { HealthCheckResponse_ServingStatus as ServingStatus } from "@eskit/gen/grpc/health/v1/health_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "@eskit/test-kit/event-store.js";
import { startTcpProxy } from "@eskit/test-kit/tcp-proxy.js";
import type { RunningMetricsConsumer } from "../src/app.js";
import {
  appendEvents,
  countsOf,
  expectedCounts,
  healthzStatus,
  scrapeWhenAt,
  startStores,
  startTestMetricsConsumer,
  testConfig,
  waitFor,
  type Stores,
} from "./harness.js";
import { sampleValue, scrape, type MetricSample } from "./support/prometheus-text.js";

// One Event Store and Crud Store for the whole file. Every test uses its own entity types and consumer id, and
// reads only the series of its own types, since each consumer reads the whole log, other tests' events included.

let stores: Stores;
const running: RunningMetricsConsumer[] = [];

beforeAll(async () => {
  stores = await startStores();
});
afterAll(async () => {
  await Promise.all(running.map((c) => c.close()));
  await stores?.stop();
});

/** A prefix no other test uses, for entity types and consumer ids. */
function fresh(label: string): string {
  return `${label}${randomBytes(3).toString("hex")}`;
}

async function startConsumer(overrides: Parameters<typeof testConfig>[1] = {}): Promise<RunningMetricsConsumer> {
  const consumer = await startTestMetricsConsumer(testConfig(stores, overrides));
  running.push(consumer);
  return consumer;
}

/** The series of counter `name` whose entity type starts with `prefix`. */
function countsWithPrefix(samples: readonly MetricSample[], name: string, prefix: string): Map<string, number> {
  return new Map([...countsOf(samples, name)].filter(([key]) => key.startsWith(prefix)));
}

function crudClient(url: string): Client<typeof CrudStoreService> {
  return createClient(CrudStoreService, createNodeTransport({ baseUrl: url, protocol: "grpc" }));
}

describe("the metrics consumer", () => {
  it("counts every event of the log by entity type and action, once, and reports its offset, lag and event ages", async () => {
    const p = fresh("count");
    const before = [`${p}.User.Created`, `${p}.User.Created`, `${p}.User.Renamed`, `${p}.acme.v1.Order.Placed`];
    await appendEvents(stores.events, before, `${p}-a`);
    const consumerId = fresh("c");
    const consumer = await startConsumer({ consumerId });
    const after = [`${p}.User.Created`, `${p}.acme.v1.Order.Placed`, `${p}.acme.v1.Order.Shipped`, `${p}.User.Deleted`];
    const ids = await appendEvents(stores.events, after, `${p}-b`);
    const last = ids.at(-1)!;

    const samples = await scrapeWhenAt(consumer.url, consumerId, last);
    expect(countsWithPrefix(samples, "eskit_events_store_total", p)).toEqual(expectedCounts([...before, ...after]));
    expect(sampleValue(samples, "eskit_consumer_offset", { consumer_id: consumerId })).toBe(Number(last));
    await waitFor(
      async () =>
        sampleValue((await scrape(consumer.url)).samples, "eskit_consumer_lag_events", { consumer_id: consumerId }) ===
        0,
      {
        timeoutMs: 5000,
        what: "lag 0",
      },
    );
    // Every entry of the log so far, other tests' included, was processed once, and its age observed once.
    expect(sampleValue(samples, "eskit_consumer_event_age_seconds_count", { consumer_id: consumerId })).toBe(
      Number(last),
    );

    expect(await healthzStatus(consumer.url)).toBe(200);
    const transport = createNodeTransport({ baseUrl: consumer.url, protocol: "grpc" });
    try {
      const { status } = await createHealthClient(transport).check({ service: "" });
      expect(status).toBe(ServingStatus.SERVING);
    } finally {
      transport.close();
    }
  });

  it("counts Created, Updated and Deleted events of registered types as Crud Store events, registered before it started or while it runs", async () => {
    const p = fresh("crud");
    const crud = crudClient(stores.crudStoreUrl);
    const registered = `${p}.Before`;
    const unregistered = `${p}.Free`;
    const later = `${p}.Later`;
    await crud.registerType({ spec: { entityType: registered, schemaSpec: { schemaVersion: 1n, jsonSchema: "" } } });
    const writeDocuments = async (entityType: string) => {
      const { originator } = await crud.create({ entityType, payload: JSON.stringify({ n: 1 }) });
      await crud.update({
        entityType,
        originator: { id: originator!.id, version: 1n },
        payload: JSON.stringify({ n: 2 }),
      });
      await crud.create({ entityType, payload: JSON.stringify({ n: 3 }) });
      await crud.delete({ entityType, originator: { id: originator!.id } });
    };
    await writeDocuments(registered);
    await writeDocuments(unregistered);
    // An event of a registered type that is not a document action is a plain event.
    await appendEvents(stores.events, [`${registered}.Archived`], `${p}-x`);

    const consumerId = fresh("c");
    const consumer = await startConsumer({ consumerId });
    await crud.registerType({ spec: { entityType: later, schemaSpec: { schemaVersion: 1n, jsonSchema: "" } } });
    await writeDocuments(later);
    const [last] = await appendEvents(stores.events, [`${p}.End.Created`], `${p}-end`);

    const samples = await scrapeWhenAt(consumer.url, consumerId, last!);
    const documentEvents = (type: string) => [
      `${type}.Created`,
      `${type}.Updated`,
      `${type}.Created`,
      `${type}.Deleted`,
    ];
    expect(countsWithPrefix(samples, "eskit_events_crud_total", p)).toEqual(
      expectedCounts([...documentEvents(registered), ...documentEvents(later)]),
    );
    expect(countsWithPrefix(samples, "eskit_events_store_total", p)).toEqual(
      expectedCounts([
        ...documentEvents(registered),
        ...documentEvents(unregistered),
        `${registered}.Archived`,
        ...documentEvents(later),
        `${p}.End.Created`,
      ]),
    );
  });

  it("reads the Crud Store's types before it consumes: until it can, it counts nothing and /healthz answers 503", async () => {
    const p = fresh("wait");
    const consumerId = fresh("c");
    const crud = crudClient(stores.crudStoreUrl);
    const type = `${p}.Doc`;
    // The type was registered before the consumer's saved offset: only the Crud Store can tell the consumer about it.
    await crud.registerType({ spec: { entityType: type, schemaSpec: { schemaVersion: 1n, jsonSchema: "" } } });
    const head = (await stores.events.getHead({})).headId;
    await stores.consumers.saveOffset(consumerId, head);
    const { originator } = await crud.create({ entityType: type, payload: "{}" });
    await crud.update({
      entityType: type,
      originator: { id: originator!.id, version: 1n },
      payload: JSON.stringify({ v: 2 }),
    });

    const crudPort = await freePort();
    const consumer = await startConsumer({ consumerId, crudStoreUrl: `http://127.0.0.1:${crudPort}` });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await healthzStatus(consumer.url)).toBe(503);
    const waiting = (await scrape(consumer.url)).samples;
    expect(countsWithPrefix(waiting, "eskit_events_store_total", p)).toEqual(new Map());
    expect(sampleValue(waiting, "eskit_consumer_offset", { consumer_id: consumerId })).toBeUndefined();

    await stores.startCrudStore({ port: crudPort });
    const [last] = await appendEvents(stores.events, [`${p}.Tail.Created`], `${p}-t`);
    const samples = await scrapeWhenAt(consumer.url, consumerId, last!, 30_000);
    expect(countsWithPrefix(samples, "eskit_events_crud_total", p)).toEqual(
      expectedCounts([`${type}.Created`, `${type}.Updated`]),
    );
    expect(countsWithPrefix(samples, "eskit_events_store_total", p)).toEqual(
      expectedCounts([`${type}.Created`, `${type}.Updated`, `${p}.Tail.Created`]),
    );
    expect(await healthzStatus(consumer.url)).toBe(200);
  });

  it("counts label values beyond ESKIT_METRICS_MAX_LABEL_VALUES as other, so a flood of types adds no series", async () => {
    const p = fresh("flood");
    const consumerId = fresh("c");
    await stores.consumers.saveOffset(consumerId, (await stores.events.getHead({})).headId);
    const consumer = await startConsumer({ consumerId, maxLabelValues: 3 });
    const types = Array.from({ length: 10 }, (_, i) => `${p}.T${i}.Created`);
    const ids = await appendEvents(stores.events, [...types, ...types], `${p}-e`);

    const samples = await scrapeWhenAt(consumer.url, consumerId, ids.at(-1)!);
    expect(countsOf(samples, "eskit_events_store_total")).toEqual(
      new Map([
        [`${p}.T0 Created`, 2],
        [`${p}.T1 Created`, 2],
        [`${p}.T2 Created`, 2],
        ["other Created", 14],
      ]),
    );
    expect(sampleValue(samples, "eskit_metrics_label_overflow_total", { label: "entity_type" })).toBe(14);
  });

  it("answers 503 while the Event Store is unreachable, then reconnects by itself and counts what was appended meanwhile", async () => {
    const p = fresh("outage");
    const consumerId = fresh("c");
    const proxy = await startTcpProxy({ host: "127.0.0.1", port: stores.eventStore.port });
    let consumer: RunningMetricsConsumer | undefined;
    try {
      consumer = await startConsumer({ consumerId, eventStoreUrl: `http://127.0.0.1:${proxy.port}` });
      const url = consumer.url;
      const [first] = await appendEvents(stores.events, [`${p}.A.Created`], `${p}-1`);
      await scrapeWhenAt(url, consumerId, first!);
      await waitFor(async () => (await healthzStatus(url)) === 200, { timeoutMs: 5000, what: "healthy" });

      await proxy.cut();
      await waitFor(async () => (await healthzStatus(url)) === 503, { timeoutMs: 5000, what: "/healthz 503" });
      const during = await appendEvents(stores.events, [`${p}.A.Updated`, `${p}.B.Created`], `${p}-2`);
      await proxy.restore();

      const samples = await scrapeWhenAt(url, consumerId, during.at(-1)!, 30_000);
      expect(countsWithPrefix(samples, "eskit_events_store_total", p)).toEqual(
        expectedCounts([`${p}.A.Created`, `${p}.A.Updated`, `${p}.B.Created`]),
      );
      expect(
        sampleValue(samples, "eskit_consumer_reconnects_total", { consumer_id: consumerId }),
      ).toBeGreaterThanOrEqual(1);
      await waitFor(async () => (await healthzStatus(url)) === 200, { timeoutMs: 5000, what: "healthy again" });
    } finally {
      // Closed while the proxy still passes the final offset save through; it would retry that for seconds.
      await consumer?.close();
      await proxy.close();
    }
  });

  it("saves its final offset when it stops", async () => {
    const p = fresh("stop");
    const consumerId = fresh("c");
    const consumer = await startConsumer({ consumerId });
    const ids = await appendEvents(stores.events, [`${p}.A.Created`, `${p}.A.Updated`], `${p}-1`);
    await scrapeWhenAt(consumer.url, consumerId, ids.at(-1)!);
    await consumer.close();
    expect((await stores.consumers.getOffset(consumerId))?.offset).toBe(ids.at(-1));
  });
});
