import { Code, ConnectError } from "@connectrpc/connect";
import { HealthCheckResponse_ServingStatus as ServingStatus } from "@eskit/gen/grpc/health/v1/health_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { healthz, protocols, startCrudStoreHarness, type CrudClients, type CrudStoreHarness } from "./harness.js";
import { freshId, freshType, outcome, parse, sleep } from "./support/documents.js";
import { startTcpProxy, type TcpProxy } from "@eskit/test-kit/tcp-proxy.js";
import { driverText } from "@eskit/test-kit/timed-call.js";

// The Crud Store reaches its Event Store through a proxy the tests cut (an outage) or slow down (deadlines).

/** A failing call must fail this fast: an outage is reported, not waited out. */
const failFastMs = 5_000;

let proxy: TcpProxy;
let harness: CrudStoreHarness;

beforeAll(async () => {
  harness = await startCrudStoreHarness({
    // A short default deadline towards the Event Store, so the test of it does not wait for 10 s.
    config: { eventStoreTimeoutMs: 1_500 },
    eventStoreUrl: async (eventStore) => {
      proxy = await startTcpProxy({ host: "127.0.0.1", port: eventStore.port });
      return `http://127.0.0.1:${proxy.port}`;
    },
  });
});
afterAll(async () => {
  if (proxy !== undefined) {
    proxy.latencyMs = 0;
    await proxy.restore();
  }
  await harness?.stop();
  await proxy?.close();
});

/** Runs a call expected to fail; returns its code ("ok" if it succeeded), its message and how long it took. */
async function timed(call: () => Promise<unknown>): Promise<{ code: Code | "ok"; message: string; ms: number }> {
  const started = Date.now();
  let message = "";
  const code = await outcome(
    call().catch((error: unknown) => {
      message = ConnectError.from(error).rawMessage;
      throw error;
    }),
  );
  return { code, message, ms: Date.now() - started };
}

describe("the crud store while the event store is unreachable", () => {
  it("answers unavailable fast, reports 503 and NOT_SERVING, then recovers by itself", async () => {
    const entityType = freshType();
    const byProtocol = new Map<string, CrudClients>(protocols.map((p) => [p, harness.clients(p)]));
    const { crud } = byProtocol.get("grpc")!;
    const id = freshId();
    await crud.create({ entityType, originator: { id }, payload: JSON.stringify({ before: true }) });
    expect(await healthz(harness.url)).toEqual({ status: 200, body: { status: "ok" } });

    await proxy.cut();

    for (const [protocol, clients] of byProtocol) {
      const calls: Record<string, () => Promise<unknown>> = {
        Get: () => clients.crud.get({ entityType, originator: { id } }, { timeoutMs: 15_000 }),
        Create: () => clients.crud.create({ entityType, payload: "{}" }, { timeoutMs: 15_000 }),
        Update: () =>
          clients.crud.update(
            { entityType, originator: { id, version: 1n }, payload: '{"x":1}' },
            { timeoutMs: 15_000 },
          ),
        Delete: () => clients.crud.delete({ entityType, originator: { id } }, { timeoutMs: 15_000 }),
        List: () => clients.crud.list({ entityType }, { timeoutMs: 15_000 }),
        History: () => clients.crud.history({ entityType, originatorId: id }, { timeoutMs: 15_000 }),
        GetType: () => clients.crud.getType({ entityType }, { timeoutMs: 15_000 }),
        RegisterType: () =>
          clients.crud.registerType(
            { spec: { entityType: freshType(), schemaSpec: { schemaVersion: 1n } } },
            { timeoutMs: 15_000 },
          ),
      };
      for (const [name, call] of Object.entries(calls)) {
        const result = await timed(call);
        expect(result.code, `${name} over ${protocol} during the outage`).toBe(Code.Unavailable);
        expect(result.ms, `${name} over ${protocol}`).toBeLessThan(failFastMs);
        // The driver's words name the Event Store's host and port: clients get a fixed message (the log keeps them).
        expect(result.message, `${name} over ${protocol}`).toBe("the Event Store is unavailable; retry later");
        expect(result.message).not.toMatch(driverText);
      }
    }
    const started = Date.now();
    expect(await healthz(harness.url)).toEqual({ status: 503, body: { status: "unavailable" } });
    expect(Date.now() - started).toBeLessThan(failFastMs);
    for (const [protocol, clients] of byProtocol) {
      expect((await clients.health.check({ service: "" })).status, protocol).toBe(ServingStatus.NOT_SERVING);
    }

    await proxy.restore();

    // The first calls after the Event Store returns may still meet the outage, but only as `unavailable`.
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        const read = await crud.get({ entityType, originator: { id } }, { timeoutMs: 5_000 });
        expect(parse(read.payload)).toStrictEqual({ before: true });
        expect(read.originator?.version).toBe(1n);
        break;
      } catch (error) {
        expect(ConnectError.from(error).code, "Get while the event store comes back").toBe(Code.Unavailable);
        if (Date.now() > deadline)
          throw new Error(`still failing 15 s after the event store came back: ${String(error)}`);
        await sleep(200);
      }
    }
    for (const [protocol, clients] of byProtocol) {
      const created = await clients.crud.create({ entityType, payload: JSON.stringify({ protocol }) });
      expect(created.originator?.version, protocol).toBe(1n);
      expect((await clients.health.check({ service: "" })).status, protocol).toBe(ServingStatus.SERVING);
    }
    const updated = await crud.update({
      entityType,
      originator: { id, version: 1n },
      payload: JSON.stringify({ after: true }),
    });
    expect(updated.originator?.version).toBe(2n);
    expect(await healthz(harness.url)).toEqual({ status: 200, body: { status: "ok" } });
    // Nothing attempted during the outage was stored.
    expect((await harness.eventStoreClient().readEvents(id)).map((e) => e.originator?.version)).toEqual([1n, 2n]);
  }, 90_000);
});

describe("the crud store while the event store is slow", () => {
  /** Runs `body` with every chunk between the two stores delayed by `latencyMs`, then lets the backlog drain. */
  async function withLatency(latencyMs: number, body: () => Promise<void>): Promise<void> {
    proxy.latencyMs = latencyMs;
    try {
      await body();
    } finally {
      proxy.latencyMs = 0;
      await proxy.drained();
    }
  }

  it("gives deadline_exceeded at the caller's deadline, not when the event store answers", async () => {
    const entityType = freshType();
    const { crud } = harness.clients("grpc");
    const id = freshId();
    await crud.create({ entityType, originator: { id }, payload: JSON.stringify({ a: 1 }) });
    // A round trip to the Event Store now takes about 1 s (0.5 s each way).
    await withLatency(500, async () => {
      for (const protocol of protocols) {
        const client = harness.clients(protocol).crud;
        const result = await timed(() => client.get({ entityType, originator: { id } }, { timeoutMs: 300 }));
        expect(result.code, protocol).toBe(Code.DeadlineExceeded);
        expect(result.ms, protocol).toBeLessThan(900);
      }
      const write = await timed(() =>
        crud.update(
          { entityType, originator: { id, version: 1n }, payload: JSON.stringify({ a: 2 }) },
          { timeoutMs: 300 },
        ),
      );
      expect(write.code).toBe(Code.DeadlineExceeded);
      expect(write.ms).toBeLessThan(900);
    });
    // The write that timed out may or may not have reached the Event Store; nothing else was written.
    const events = await harness.eventStoreClient().readEvents(id);
    expect(events.length).toBeLessThanOrEqual(2);
  }, 60_000);

  it("applies its own deadline (eventStoreTimeoutMs) towards the event store when the caller gives none", async () => {
    const entityType = freshType();
    const { crud } = harness.clients("grpc");
    const id = freshId();
    await crud.create({ entityType, originator: { id }, payload: "{}" });
    // A round trip now takes about 2.4 s, longer than eventStoreTimeoutMs (1.5 s).
    await withLatency(1_200, async () => {
      const result = await timed(() => crud.get({ entityType, originator: { id } }));
      expect(result.code).toBe(Code.DeadlineExceeded);
      expect(result.ms).toBeGreaterThanOrEqual(1_400);
      expect(result.ms).toBeLessThan(2_300);
    });
    expect((await crud.get({ entityType, originator: { id } })).originator?.version).toBe(1n);
  }, 60_000);

  it("honours a caller's deadline longer than eventStoreTimeoutMs (that default applies only when the caller gives none)", async () => {
    const entityType = freshType();
    const { crud } = harness.clients("grpc");
    const id = freshId();
    await crud.create({ entityType, originator: { id }, payload: JSON.stringify({ patient: true }) });
    await withLatency(1_200, async () => {
      const read = await crud.get({ entityType, originator: { id } }, { timeoutMs: 20_000 });
      expect(read.originator).toMatchObject({ id, version: 1n });
      expect(parse(read.payload)).toStrictEqual({ patient: true });
    });
  }, 60_000);
});
