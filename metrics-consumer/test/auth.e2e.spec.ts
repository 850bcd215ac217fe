import { randomBytes, randomUUID } from "node:crypto";
import { createClient } from "@connectrpc/connect";
import { createNodeTransport } from "@eskit/client/node.js";
import { CrudStoreService } from "@eskit/gen/eskit/crudstore/v1/crud_store_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningMetricsConsumer } from "../src/app.js";
import { loadConfig } from "../src/config.js";
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

// The Metrics Consumer against an Event Store and a Crud Store that both need tokens: it presents EVENT_STORE_TOKEN to
// the Event Store (LogsPoll, GetHead, GetOffset, SaveOffset) and CRUD_STORE_TOKEN, or else the same token, to the
// Crud Store (ListTypes).

const eventStoreToken = `es-${randomUUID()}`;
const crudFull = `crud-${randomUUID()}`;
const crudRead = `crud-read-${randomUUID()}`;
const metricsToken = `metrics-${randomUUID()}`;

let stores: Stores;
const running: RunningMetricsConsumer[] = [];
beforeAll(async () => {
  stores = await startStores({
    eventStoreConfig: { authTokens: [eventStoreToken], readTokens: [] },
    // The Crud Store accepts the Event Store's token as well, so a consumer given only EVENT_STORE_TOKEN gets in.
    crudStoreConfig: { authTokens: [crudFull, eventStoreToken], readTokens: [crudRead], eventStoreToken },
    eventStoreToken,
  });
});
afterAll(async () => {
  await Promise.all(running.map((c) => c.close()));
  await stores?.stop();
});

const fresh = (label: string) => `${label}${randomBytes(3).toString("hex")}`;

async function startConsumer(overrides: Parameters<typeof testConfig>[1]): Promise<RunningMetricsConsumer> {
  const consumer = await startTestMetricsConsumer(testConfig(stores, overrides));
  running.push(consumer);
  return consumer;
}

describe("a Metrics Consumer of stores with access control", () => {
  it("counts every event, the Crud Store's included, with EVENT_STORE_TOKEN and a read-only CRUD_STORE_TOKEN", async () => {
    const p = fresh("auth");
    const crud = createClient(
      CrudStoreService,
      createNodeTransport({ baseUrl: stores.crudStoreUrl, protocol: "grpc", token: crudFull }),
    );
    const docType = `${p}.Doc`;
    await crud.registerType({ spec: { entityType: docType, schemaSpec: { schemaVersion: 1n, jsonSchema: "" } } });
    await crud.create({ entityType: docType, payload: "{}" });
    const plain = [`${p}.User.Created`, `${p}.User.Renamed`];
    await appendEvents(stores.events, plain, `${p}-a`);

    const consumerId = fresh("c");
    const consumer = await startConsumer({ consumerId, eventStoreToken, crudStoreToken: crudRead });
    const [last] = await appendEvents(stores.events, [`${p}.User.Deleted`], `${p}-b`);
    const samples = await scrapeWhenAt(consumer.url, consumerId, last!);
    const mine = (name: string) => new Map([...countsOf(samples, name)].filter(([key]) => key.startsWith(p)));
    expect(mine("eskit_events_store_total")).toEqual(
      expectedCounts([`${docType}.Created`, ...plain, `${p}.User.Deleted`]),
    );
    expect(mine("eskit_events_crud_total")).toEqual(expectedCounts([`${docType}.Created`]));
    expect(await healthzStatus(consumer.url)).toBe(200);
    // Its offset was saved with the token (SaveOffset is a write).
    await waitFor(async () => (await stores.consumers.getOffset(consumerId).catch(() => undefined))?.offset === last, {
      timeoutMs: 5000,
      what: "the saved offset",
    });
  });

  it("sends EVENT_STORE_TOKEN to the Crud Store when CRUD_STORE_TOKEN is unset, and protects /metrics with ESKIT_METRICS_AUTH=token", async () => {
    const consumerId = fresh("c");
    const fromEnv = loadConfig({
      EVENT_STORE_TOKEN: eventStoreToken,
      ESKIT_AUTH_TOKENS: metricsToken,
      ESKIT_METRICS_AUTH: "token",
    });
    expect(fromEnv.crudStoreToken).toBe(eventStoreToken);
    const consumer = await startConsumer({
      consumerId,
      eventStoreToken: fromEnv.eventStoreToken,
      crudStoreToken: fromEnv.crudStoreToken,
      authTokens: fromEnv.authTokens,
      metricsAuth: fromEnv.metricsAuth,
    });
    const [last] = await appendEvents(stores.events, [`${fresh("m")}.Thing.Happened`], "m");
    await scrapeWhenAt(consumer.url, consumerId, last!, 20_000, metricsToken);
    const anonymous = await fetch(`${consumer.url}/metrics`);
    expect(anonymous.status).toBe(401);
    await anonymous.arrayBuffer();
    expect(await healthzStatus(consumer.url)).toBe(200);
  });

  it("stays unhealthy, counting nothing, without a token the stores accept", async () => {
    const consumerId = fresh("c");
    const consumer = await startConsumer({
      consumerId,
      eventStoreToken: undefined,
      crudStoreToken: undefined,
      lagIntervalMs: 100,
    });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await healthzStatus(consumer.url)).toBe(503);
    const refused = await startConsumer({
      consumerId: fresh("c"),
      eventStoreToken: `wrong-${randomUUID()}`,
      crudStoreToken: crudRead,
      lagIntervalMs: 100,
    });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await healthzStatus(refused.url)).toBe(503);
    expect((await stores.consumers.getOffset(consumerId).catch(() => undefined))?.offset).toBeUndefined();
  });
});
