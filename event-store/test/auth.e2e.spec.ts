import { randomUUID } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { HealthCheckResponse_ServingStatus as ServingStatus } from "@eskit/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Clients,
  type SpawnedEventStore,
  type TestEventStore,
  clientsFor,
  protocols,
  spawnEventStore,
  startTestEventStore,
} from "./harness.js";
import { rejection } from "@eskit/test-kit/rejection.js";
import { runEventStoreProcess } from "@eskit/test-kit/run-process.js";

// Access control and request limits of a real Event Store: a process started as in production (its log lines are
// read back to check that no token ever reaches them), with two full tokens, a read token, /metrics protected and at
// most two open streams; and one in this process with a short default deadline and /metrics open.

const full = `full-${randomUUID()}`;
const otherFull = `full2-${randomUUID()}`;
const read = `read-${randomUUID()}`;
const wrong = `wrong-${randomUUID()}`;

let store: SpawnedEventStore;
beforeAll(async () => {
  store = await spawnEventStore({
    ESKIT_AUTH_TOKENS: `${full}, ${otherFull}`,
    ESKIT_READ_TOKENS: read,
    ESKIT_METRICS_AUTH: "token",
    ESKIT_MAX_STREAMS: "2",
    LOG_LEVEL: "debug",
  });
  const writer = clientsFor(store.url, "grpc", full);
  try {
    await writer.eventStore.appendEvents([{ originatorId: "seed", version: 1n, eventType: "Seed.Planted" }]);
  } finally {
    writer.close();
  }
});
afterAll(async () => {
  await store?.stop();
});

const unique = (prefix: string) => `${prefix}-${randomUUID()}`;
const newEvent = (originatorId: string) => ({
  originatorId,
  version: 1n,
  eventType: "User.Created",
  payload: { a: 1 },
});

/** Opens a LogsPoll stream from the start and waits for its first message; `close()` cancels it. */
async function openTail(clients: Clients): Promise<{ close(): void }> {
  const stop = new AbortController();
  const stream = clients.eventStore.logsPoll({ fromId: 1n }, { signal: stop.signal })[Symbol.asyncIterator]();
  try {
    const first = await stream.next();
    expect(first.value?.entries[0]?.id).toBe(1n);
  } catch (error) {
    stop.abort();
    throw error;
  }
  return { close: () => stop.abort() };
}

describe.each(protocols)("an Event Store with tokens, over %s", (protocol) => {
  const clients: Record<"none" | "wrong" | "read" | "full" | "otherFull", Clients> = {} as never;
  beforeAll(() => {
    clients.none = clientsFor(store.url, protocol);
    clients.wrong = clientsFor(store.url, protocol, wrong);
    clients.read = clientsFor(store.url, protocol, read);
    clients.full = clientsFor(store.url, protocol, full);
    clients.otherFull = clientsFor(store.url, protocol, otherFull);
  });
  afterAll(() => {
    for (const c of Object.values(clients)) c.close();
  });

  it("refuses every RPC without a token, or with a wrong one, with unauthenticated", async () => {
    for (const [who, message] of [
      ["none", "this server needs a token: send the header Authorization: Bearer <token>"],
      ["wrong", "the bearer token is not valid here"],
    ] as const) {
      const { eventStore, consumers } = clients[who];
      const refused = { code: Code.Unauthenticated, message };
      expect(await rejection(eventStore.appendEvents([newEvent(unique("u"))]))).toEqual(refused);
      expect(await rejection(eventStore.getEvents({ originatorId: "seed" }))).toEqual(refused);
      expect(await rejection(eventStore.logs({ fromId: 1n }))).toEqual(refused);
      expect(await rejection(eventStore.getHead({}))).toEqual(refused);
      expect(await rejection(consumers.saveOffset({ consumerId: "c", offset: 1n }))).toEqual(refused);
      expect(await rejection(consumers.listConsumers({}))).toEqual(refused);
      expect(await rejection(openTail(clients[who]))).toEqual(refused);
    }
  });

  it("lets a read token call every read, LogsPoll included", async () => {
    const { eventStore, consumers } = clients.read;
    expect((await eventStore.readEvents("seed")).map((e) => e.eventType)).toEqual(["Seed.Planted"]);
    const batch = await eventStore.batchGetEvents({ ranges: [{ originatorId: "seed" }] });
    expect(batch.results[0]?.events).toHaveLength(1);
    expect((await eventStore.logs({ fromId: 1n, size: 1 })).entries[0]?.id).toBe(1n);
    expect((await eventStore.getHead({})).headId).toBeGreaterThanOrEqual(1n);
    expect((await eventStore.listOriginators({ entityType: "Seed" })).originators.map((o) => o.id)).toEqual(["seed"]);
    // Past the token check, the store answers as usual.
    expect((await rejection(eventStore.getSnapshot({ originatorId: "seed" }))).code).toBe(Code.NotFound);
    expect((await rejection(consumers.getOffset({ consumerId: unique("nobody") }))).code).toBe(Code.NotFound);
    expect(Array.isArray((await consumers.listConsumers({})).consumers)).toBe(true);
    const tail = await openTail(clients.read);
    tail.close();
  });

  it("refuses the writes of a read token with permission_denied, and writes nothing", async () => {
    const { eventStore, consumers } = clients.read;
    const id = unique("u");
    const denied = (method: string) => ({
      code: Code.PermissionDenied,
      message: `eskit.eventstore.v1.${method} changes data: it needs a full token, and this one may only read`,
    });
    expect(await rejection(eventStore.appendEvents([newEvent(id)]))).toEqual(denied("EventStoreService/Append"));
    expect(await rejection(eventStore.saveSnapshot({ originatorId: "seed", version: 1n, payload: "{}" }))).toEqual(
      denied("EventStoreService/SaveSnapshot"),
    );
    const consumerId = unique("c");
    expect(await rejection(consumers.saveOffset({ consumerId, offset: 1n }))).toEqual(
      denied("ConsumerService/SaveOffset"),
    );
    expect(await clients.full.eventStore.readEvents(id)).toEqual([]);
    expect((await rejection(clients.full.consumers.getOffset({ consumerId }))).code).toBe(Code.NotFound);
  });

  it("lets every full token call everything", async () => {
    for (const who of ["full", "otherFull"] as const) {
      const { eventStore, consumers } = clients[who];
      const id = unique("u");
      const [logId] = await eventStore.appendEvents([newEvent(id)]);
      await eventStore.saveSnapshot({ originatorId: id, version: 1n, payload: '{"a":1}' });
      expect((await eventStore.getSnapshot({ originatorId: id })).payload).toBe('{"a":1}');
      const consumerId = unique("c");
      await consumers.saveOffset({ consumerId, offset: logId! });
      expect((await consumers.getOffset({ consumerId })).offset).toBe(logId);
    }
  });

  it("leaves the gRPC health service open, like /healthz", async () => {
    expect((await clients.none.health.check({})).status).toBe(ServingStatus.SERVING);
    expect((await clients.wrong.health.check({ service: "eskit.eventstore.v1.EventStoreService" })).status).toBe(
      ServingStatus.SERVING,
    );
  });

  it("refuses a LogsPoll beyond ESKIT_MAX_STREAMS with resource_exhausted until one closes", async () => {
    const open = [await openTail(clients.read), await openTail(clients.full)];
    const refused = await rejection(openTail(clients.read));
    expect(refused).toEqual({
      code: Code.ResourceExhausted,
      message: "this server already has 2 streams open, its limit (ESKIT_MAX_STREAMS): retry later",
    });
    // A caller without a token is refused for that first: it cannot take (or probe) a stream slot.
    expect((await rejection(openTail(clients.none))).code).toBe(Code.Unauthenticated);
    // Unary calls go on.
    expect((await clients.read.eventStore.getHead({})).headId).toBeGreaterThanOrEqual(1n);

    open.shift()!.close();
    let third: { close(): void } | undefined;
    for (const deadline = Date.now() + 10_000; third === undefined && Date.now() < deadline;) {
      third = await openTail(clients.read).catch((error: unknown) => {
        expect(ConnectError.from(error).code).toBe(Code.ResourceExhausted);
        return undefined;
      });
      if (third === undefined) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(third).toBeDefined();
    third?.close();
    for (const stream of open) stream.close();
  });
});

describe("an Event Store with tokens, over plain HTTP", () => {
  it("leaves /healthz open", async () => {
    const response = await fetch(`${store.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
  });

  it("protects /metrics with ESKIT_METRICS_AUTH=token, accepting full and read tokens", async () => {
    const none = await fetch(`${store.url}/metrics`);
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toBe('Bearer realm="eskit"');
    await none.arrayBuffer();
    expect((await fetch(`${store.url}/metrics`, { headers: { authorization: `Bearer ${wrong}` } })).status).toBe(401);
    for (const token of [read, full]) {
      const response = await fetch(`${store.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(200);
      const text = await response.text();
      // Refused calls are counted like any other, by the code their callers saw.
      expect(text).toMatch(
        /eskit_rpc_requests_total\{service="eskit\.eventstore\.v1\.EventStoreService",method="Append",code="unauthenticated"\} [1-9]/u,
      );
      expect(text).toMatch(
        /eskit_rpc_requests_total\{service="eskit\.eventstore\.v1\.EventStoreService",method="Append",code="permission_denied"\} [1-9]/u,
      );
    }
  });

  it("answers a curl-style Connect call without a token with 401 and a JSON error", async () => {
    const response = await fetch(`${store.url}/eskit.eventstore.v1.EventStoreService/GetHead`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({
      code: "unauthenticated",
      message: "this server needs a token: send the header Authorization: Bearer <token>",
    });
  });

  it("never writes a token to its logs, and says how many it has", async () => {
    const output = store.stdout() + store.stderr();
    const rpcLines = output.split("\n").filter((line) => line.includes('"msg":"rpc"'));
    expect(rpcLines.some((line) => line.includes('"code":"unauthenticated"'))).toBe(true);
    expect(rpcLines.some((line) => line.includes('"code":"permission_denied"'))).toBe(true);
    for (const token of [full, otherFull, read, wrong]) expect(output).not.toContain(token);
    expect(output.toLowerCase()).not.toContain("bearer ");
    const accessLine = output.split("\n").find((line) => line.includes('"msg":"access control"'));
    expect(JSON.parse(accessLine ?? "{}")).toMatchObject({
      auth: "on",
      full_tokens: 2,
      read_tokens: 1,
      metrics: "token",
      max_streams: 2,
    });
  });
});

describe("an Event Store with an invalid token configuration", () => {
  it("exits 2 naming the variable, without printing the token", async () => {
    const secret = "short-secret-1";
    const outcome = await runEventStoreProcess({ ESKIT_AUTH_TOKENS: `${full},${secret}`, ESKIT_METRICS_AUTH: "basic" });
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toBe(
      "eskit event-store: invalid configuration\ninvalid configuration:\n" +
        "  ESKIT_AUTH_TOKENS: token 2 of 2 is 14 characters long; a token needs at least 16\n" +
        '  ESKIT_METRICS_AUTH must be one of open, token, got "basic"\n',
    );
    expect(outcome.stdout + outcome.stderr).not.toContain(secret);
    expect(outcome.stdout + outcome.stderr).not.toContain(full);
  });
});

describe("an Event Store with a default deadline", () => {
  let fast: TestEventStore;
  let grpc: Clients;
  beforeAll(async () => {
    fast = await startTestEventStore({
      authTokens: [full],
      readTokens: [],
      metricsAuth: "open",
      defaultDeadlineMs: 20,
    });
    grpc = clientsFor(fast.url, "grpc", full);
  });
  afterAll(async () => {
    grpc?.close();
    await fast?.stop();
  });

  const manyEvents = (prefix: string) =>
    Array.from({ length: 10_000 }, (_, i) => ({
      originatorId: `${prefix}-${i}`,
      version: 1n,
      eventType: "Bulk.Loaded",
      payload: { i },
    }));

  it("ends a unary call that outlasts ESKIT_DEFAULT_DEADLINE_MS with deadline_exceeded when the client set no deadline", async () => {
    const refused = await rejection(grpc.eventStore.appendEvents(manyEvents(unique("slow"))));
    expect(refused).toEqual({
      code: Code.DeadlineExceeded,
      message:
        "the call took longer than the server's default deadline of 20 ms; set a deadline on the call to allow more",
    });
  });

  it("lets a client's own deadline win", async () => {
    const ids = await grpc.eventStore.appendEvents(manyEvents(unique("patient")), { timeoutMs: 60_000 });
    expect(ids).toHaveLength(10_000);
  });

  it("leaves /metrics open with ESKIT_METRICS_AUTH=open while the RPCs need a token", async () => {
    expect((await fetch(`${fast.url}/metrics`)).status).toBe(200);
    const anonymous = clientsFor(fast.url, "connect");
    try {
      expect((await rejection(anonymous.eventStore.getHead({}))).code).toBe(Code.Unauthenticated);
    } finally {
      anonymous.close();
    }
  });
});
