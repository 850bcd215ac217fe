import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError, type NewEvent } from "@eskit/client";
import {
  clientsFor,
  dropDatabase,
  freshDatabaseUrl,
  startTestEventStore,
  type Clients,
  type TestEventStore,
} from "./harness.js";
import type { AckedEvent } from "@eskit/test-kit/append-workload.js";
import { expectHistoriesMatchAcked, expectLogMatchesAcked } from "./support/log-checks.js";
import { startLogReader, type LogReader } from "./support/log-reader.js";
import { startTcpProxy, type TcpProxy } from "@eskit/test-kit/tcp-proxy.js";

// The outage is made with a TCP proxy in front of PostgreSQL; PGlite runs inside the process and cannot go away.
const postgresUrl = process.env["DATABASE_URL"];
const skipReason = postgresUrl ? "" : " (skipped: needs PostgreSQL, set DATABASE_URL)";

/** A failing call must fail this fast: an outage is reported, not waited out. */
const failFastMs = 5_000;

describe.skipIf(!postgresUrl)(`the event store while PostgreSQL is unreachable${skipReason}`, () => {
  let databaseUrl: string | undefined;
  let proxy: TcpProxy | undefined;
  let store: TestEventStore | undefined;
  const clients: Clients[] = [];
  const connect = (): Clients => {
    const c = clientsFor(store!.url, "grpc");
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    databaseUrl = await freshDatabaseUrl(postgresUrl);
    const direct = new URL(databaseUrl);
    proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
    const proxied = new URL(databaseUrl);
    proxied.hostname = "127.0.0.1";
    proxied.port = String(proxy.port);
    store = await startTestEventStore({ databaseUrl: proxied.toString(), dataDir: "" });
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await proxy?.restore();
    await store?.stop();
    await proxy?.close();
    if (databaseUrl !== undefined) await dropDatabase(databaseUrl);
  });

  it("answers unavailable fast, reports 503 on /healthz, then recovers by itself without losing a log entry", async () => {
    const writer = connect().eventStore;
    const acked = new Map<string, AckedEvent>();
    const rejected = new Set<string>();
    const versions = new Map<string, bigint>();
    const next = (originatorId: string, eventId = randomUUID()): NewEvent => ({
      originatorId,
      version: (versions.get(originatorId) ?? 0n) + 1n,
      eventType: "Account.Deposited",
      payload: `{"amount": ${acked.size + 1}}`,
      eventId,
    });
    const append = async (events: NewEvent[]): Promise<void> => {
      const logIds = await writer.appendEvents(events, { timeoutMs: 15_000 });
      events.forEach((e, i) => {
        acked.set(e.eventId!, { ...(e as Required<NewEvent>), payload: e.payload as string, logId: logIds[i]! });
        versions.set(e.originatorId, e.version);
      });
    };

    // Before: a live stream that has delivered what was written so far.
    await append([next("acct-1")]);
    await append([next("acct-2"), next("acct-3")]);
    expect(await healthz(store!.url)).toEqual({ status: 200, body: { status: "ok" } });
    const reader: LogReader = startLogReader(connect().eventStore, { reopenOn: [Code.Unavailable] });
    try {
      await reader.waitForId(maxLogId(acked), 10_000);

      await proxy!.cut();

      for (let attempt = 0; attempt < 3; attempt++) {
        const events = [next("acct-1"), next("acct-4")];
        for (const e of events) rejected.add(e.eventId!);
        const outcome = await timed(() => writer.appendEvents(events, { timeoutMs: 15_000 }));
        expect(outcome.code, `Append during the outage, attempt ${attempt}`).toBe(Code.Unavailable);
        expect(outcome.ms).toBeLessThan(failFastMs);
      }
      for (let attempt = 0; attempt < 2; attempt++) {
        const outcome = await timed(() => writer.readEvents("acct-1", {}, { timeoutMs: 15_000 }));
        expect(outcome.code, `GetEvents during the outage, attempt ${attempt}`).toBe(Code.Unavailable);
        expect(outcome.ms).toBeLessThan(failFastMs);
      }
      const started = Date.now();
      expect(await healthz(store!.url)).toEqual({ status: 503, body: { status: "unavailable" } });
      expect(Date.now() - started).toBeLessThan(failFastMs);

      // Long enough for the store's own reconnection attempts (pool, LISTEN connection) to fail too.
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      expect(proxy!.openConnections).toBe(0);
      await proxy!.restore();

      // The first append after the database returns may still meet the outage, but only as `unavailable`; it is
      // retried with the same event_id, as a client should, so it is stored once however many tries it takes.
      const recovery = next("acct-1");
      const deadline = Date.now() + 15_000;
      for (;;) {
        try {
          await append([recovery]);
          break;
        } catch (error) {
          expect(ConnectError.from(error).code, "Append while the database comes back").toBe(Code.Unavailable);
          if (Date.now() > deadline)
            throw new Error(`still failing 15 s after the database came back: ${String(error)}`);
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
      for (let i = 0; i < 5; i++) await append([next("acct-1"), next(`acct-after-${i}`)]);
      expect(await healthz(store!.url)).toEqual({ status: 200, body: { status: "ok" } });

      // The stream opened before the outage (reopened from its last id if it had to) delivers everything acknowledged
      // and none of the refused appends.
      await reader.waitForId(maxLogId(acked), 15_000);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(reader.failure).toBeUndefined();
      expectLogMatchesAcked(reader.entries, acked, rejected);
      await expectHistoriesMatchAcked(writer, acked);
      // A reader opened after the outage sees the same log.
      const late = startLogReader(connect().eventStore);
      try {
        await late.waitForId(maxLogId(acked), 10_000);
        expectLogMatchesAcked(late.entries, acked, rejected);
      } finally {
        await late.stop();
      }
    } finally {
      await reader.stop();
    }
  }, 90_000);
});

function maxLogId(acked: ReadonlyMap<string, AckedEvent>): bigint {
  return [...acked.values()].reduce((max, e) => (e.logId > max ? e.logId : max), 0n);
}

/** Runs a call expected to fail; returns its Connect code (undefined if it succeeded) and how long it took. */
async function timed(call: () => Promise<unknown>): Promise<{ code: Code | undefined; ms: number }> {
  const started = Date.now();
  try {
    await call();
    return { code: undefined, ms: Date.now() - started };
  } catch (error) {
    return { code: ConnectError.from(error).code, ms: Date.now() - started };
  }
}

async function healthz(baseUrl: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(10_000) });
  return { status: response.status, body: await response.json() };
}
