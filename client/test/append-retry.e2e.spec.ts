/**
 * The typed client's Append retry against a real Event Store on PostgreSQL, with an answer lost for real: the append
 * stalls on a lock held by the test, the network between client and store goes silent (a TCP proxy's black hole, so
 * the server does not see its client leave and does not cancel), the client gives up at its deadline, and the store
 * commits when the lock is released. Then the network comes back.
 */
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestEventStore, type TestEventStore } from "@eskit/test-kit/event-store.js";
import { proxiedDatabase, type ProxiedDatabase } from "@eskit/test-kit/proxied-database.js";
import { startTcpProxy, type TcpProxy } from "@eskit/test-kit/tcp-proxy.js";
import { createEventStoreClient, type EventStoreClient } from "../src/event-store-client.js";
import { createNodeTransport, type NodeTransport } from "../src/node.js";

// The stall is a lock held in PostgreSQL; PGlite runs one statement at a time inside the process.
const postgresUrl = process.env["DATABASE_URL"];
const skipReason = postgresUrl ? "" : " (skipped: needs PostgreSQL, set DATABASE_URL)";

/** Tells the server a deadline of 10 s whatever the client's own: the server goes on after the client gave up. */
const patientServer: Interceptor = (next) => (req) => {
  req.header.set("grpc-timeout", "10000m");
  return next(req);
};

describe.skipIf(!postgresUrl)(`appendEvents with retries${skipReason}`, () => {
  let db: ProxiedDatabase;
  let store: TestEventStore;
  let network: TcpProxy;
  let transport: NodeTransport;
  let client: EventStoreClient;

  beforeAll(async () => {
    db = await proxiedDatabase(postgresUrl!);
    store = await startTestEventStore({ databaseUrl: db.directUrl, dataDir: "" });
    network = await startTcpProxy({ host: "127.0.0.1", port: store.port });
    const baseUrl = `http://127.0.0.1:${network.port}`;
    transport = createNodeTransport({ baseUrl, protocol: "grpc", interceptors: [patientServer] });
    client = createEventStoreClient(transport);
  });
  afterAll(async () => {
    transport?.close();
    await network?.close();
    await store?.stop();
    await db?.remove();
  });

  /**
   * Starts `append` while appends stall for 1.5 s, silences the network once the request is in (0.3 s), and brings it
   * back after the store committed (1.8 s).
   */
  const withLostAnswer = async <T>(append: () => Promise<T>): Promise<T> => {
    const { released } = await db.stallAppends(1_500);
    const pending = append();
    pending.catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 300));
    network.blackHole();
    const back = released.then(() => new Promise((resolve) => setTimeout(resolve, 300))).then(() => network.restore());
    try {
      return await pending;
    } finally {
      await back;
    }
  };

  it("resends an append whose answer was lost with the same event ids: answered with the original log id, stored once", async () => {
    const logIds = await withLostAnswer(() =>
      client.appendEvents([{ originatorId: "retry-1", version: 1n, eventType: "Retry.Sent", payload: "{}" }], {
        timeoutMs: 1_000,
        retries: 5,
        backoff: { initialDelayMs: 500, maxDelayMs: 500 },
      }),
    );
    const stored = await client.readEvents("retry-1");
    expect(stored).toHaveLength(1);
    expect(logIds).toEqual([1n]);
    const [entry] = (await client.logs({ fromId: 0n, size: 10 })).entries;
    expect(entry?.event?.eventId).toBe(stored[0]!.eventId);
  }, 30_000);

  it("without retries the same loss is deadline_exceeded, and a resend without the first attempt's ids is refused", async () => {
    const event = { originatorId: "retry-2", version: 1n, eventType: "Retry.Sent", payload: "{}" };
    const lost = await withLostAnswer(() =>
      client.appendEvents([event], { timeoutMs: 1_000 }).then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      ),
    );
    // Node's HTTP/2 client reports its deadline over a silent connection as `canceled`.
    expect([Code.DeadlineExceeded, Code.Canceled]).toContain(lost?.code);
    // It was stored all the same: a resend with a new id is a conflict, not the success a retry should be.
    // (Retried itself over the connection the silence broke, with an id of its own, not the first attempt's.)
    const resent = await client.appendEvents([event], { timeoutMs: 5_000, retries: 3 }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(resent?.code).toBe(Code.Aborted);
    expect(await client.readEvents("retry-2")).toHaveLength(1);
  }, 30_000);
});
