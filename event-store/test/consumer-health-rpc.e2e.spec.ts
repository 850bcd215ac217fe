import { randomUUID } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { HealthCheckResponse_ServingStatus as Status } from "@eskit/gen/grpc/health/v1/health_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Clients, type TestEventStore, clientsFor, protocols, startTestEventStore } from "./harness.js";
import { rejection } from "@eskit/test-kit/rejection.js";

let store: TestEventStore;
beforeAll(async () => {
  store = await startTestEventStore();
});
afterAll(async () => {
  await store.stop();
});

describe.each(protocols)("ConsumerService over %s", (protocol) => {
  let c: Clients;
  beforeAll(() => {
    c = clientsFor(store.url, protocol);
  });
  afterAll(() => c.close());

  it("saves an offset, reads it back with its time, and replaces it on the next save", async () => {
    const consumerId = `c-${randomUUID()}`;
    const before = Date.now();
    await c.consumers.saveOffset({ consumerId, offset: 41n });
    const first = await c.consumers.getOffset({ consumerId });
    expect(first.offset).toBe(41n);
    const savedAt = Number(first.updatedAt!.seconds) * 1000 + first.updatedAt!.nanos / 1e6;
    expect(savedAt).toBeGreaterThanOrEqual(before - 2000);
    expect(savedAt).toBeLessThanOrEqual(Date.now() + 2000);
    await c.consumers.saveOffset({ consumerId, offset: 9_007_199_254_740_993n });
    expect((await c.consumers.getOffset({ consumerId })).offset).toBe(9_007_199_254_740_993n);
  });

  it("answers not_found for a consumer that never saved", async () => {
    expect((await rejection(c.consumers.getOffset({ consumerId: `c-${randomUUID()}` }))).code).toBe(Code.NotFound);
  });

  it.each([
    ["an empty id", ""],
    ["a 256-character id", "c".repeat(256)],
  ])("rejects %s with invalid_argument", async (_name, consumerId) => {
    expect((await rejection(c.consumers.saveOffset({ consumerId, offset: 1n }))).code).toBe(Code.InvalidArgument);
    expect((await rejection(c.consumers.getOffset({ consumerId }))).code).toBe(Code.InvalidArgument);
  });

  it("accepts a 255-character id", async () => {
    const consumerId = randomUUID() + "c".repeat(255 - 36);
    await c.consumers.saveOffset({ consumerId, offset: 7n });
    expect((await c.consumers.getOffset({ consumerId })).offset).toBe(7n);
  });

  it("lists every consumer with its offset, ordered by id", async () => {
    const prefix = `list-${randomUUID()}`;
    await c.consumers.saveOffset({ consumerId: `${prefix}-b`, offset: 2n });
    await c.consumers.saveOffset({ consumerId: `${prefix}-a`, offset: 1n });
    const { consumers } = await c.consumers.listConsumers({});
    const mine = consumers.filter((x) => x.consumerId.startsWith(prefix));
    expect(mine.map((x) => [x.consumerId, x.offset])).toEqual([
      [`${prefix}-a`, 1n],
      [`${prefix}-b`, 2n],
    ]);
    expect(mine.every((x) => x.updatedAt !== undefined)).toBe(true);
  });
});

describe.each(protocols)("grpc.health.v1.Health over %s", (protocol) => {
  let c: Clients;
  beforeAll(() => {
    c = clientsFor(store.url, protocol);
  });
  afterAll(() => c.close());

  it.each(["", "eskit.eventstore.v1.EventStoreService", "eskit.eventstore.v1.ConsumerService"])(
    "reports %j as SERVING",
    async (service) => {
      expect((await c.health.check({ service })).status).toBe(Status.SERVING);
    },
  );

  it("answers not_found for an unknown service", async () => {
    expect((await rejection(c.health.check({ service: "no.such.Service" }))).code).toBe(Code.NotFound);
  });

  it("streams the status on Watch until cancelled", async () => {
    const abort = new AbortController();
    const statuses: Status[] = [];
    try {
      for await (const response of c.health.watch({ service: "" }, { signal: abort.signal })) {
        statuses.push(response.status);
        abort.abort();
      }
    } catch (error) {
      expect(error instanceof ConnectError && error.code).toBe(Code.Canceled);
    }
    expect(statuses).toEqual([Status.SERVING]);
  });
});

describe("GET /healthz", () => {
  it("answers 200 while the database answers", async () => {
    const response = await fetch(`${store.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
  });
});
