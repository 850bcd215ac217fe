import { randomUUID } from "node:crypto";
import { createLogConsumer } from "@eskit/client";
import { createNodeTransport } from "@eskit/client/node.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Clients, clientsFor, startTestEventStore, type TestEventStore } from "./harness.js";
import { startTcpProxy, type TcpProxy } from "@eskit/test-kit/tcp-proxy.js";

// A connection that dies without a reset (a NAT that forgot it) looks like a quiet log to a LogsPoll reader. The
// Event Store's heartbeats make silence mean "dead": consume() reconnects when not even a heartbeat came.

describe("consume() over a connection that goes silent", () => {
  let store: TestEventStore;
  let proxy: TcpProxy;
  let direct: Clients;
  beforeAll(async () => {
    store = await startTestEventStore({ logsPollHeartbeatMs: 200 });
    proxy = await startTcpProxy({ host: "127.0.0.1", port: store.port });
    direct = clientsFor(store.url, "grpc");
  });
  afterAll(async () => {
    direct?.close();
    await proxy?.close();
    await store?.stop();
  });

  it.each(["grpc", "connect"] as const)(
    "reconnects from its last handled entry when no message (entry or heartbeat) came for heartbeatTimeoutMs (%s)",
    async (protocol) => {
      // gRPC multiplexes calls on one HTTP/2 connection: its PINGs tell the transport to open a new one.
      const transport = createNodeTransport({
        baseUrl: `http://127.0.0.1:${proxy.port}`,
        protocol,
        http2Ping: { intervalMs: 1500, timeoutMs: 500 },
      });
      const consumer = createLogConsumer(transport);
      const stop = new AbortController();
      const handled: bigint[] = [];
      const reconnects: string[] = [];
      const id = `door-${randomUUID()}`;
      const append = async (version: bigint) =>
        (
          await direct.eventStore.appendEvents([{ originatorId: id, version, eventType: "Door.Opened", payload: "{}" }])
        )[0]!;
      const waitHandled = async (logId: bigint, ms: number) => {
        const deadline = Date.now() + ms;
        while (!handled.includes(logId)) {
          if (Date.now() > deadline) throw new Error(`entry ${logId} not handled within ${ms} ms`);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      };
      const running = consumer.consume(
        {
          consumerId: `c-${randomUUID()}`,
          start: "beginning",
          heartbeatTimeoutMs: 1000,
          reconnect: { initialDelayMs: 10, maxDelayMs: 50 },
          onReconnect: (error) => reconnects.push(String(error)),
        },
        (entry) => void handled.push(entry.id),
        { signal: stop.signal },
      );
      try {
        const first = await append(1n);
        await waitHandled(first, 5000);
        // Heartbeats every 200 ms keep a quiet but live stream open: no reconnection in 1.5 s.
        await new Promise((resolve) => setTimeout(resolve, 1500));
        expect(reconnects).toEqual([]);
        // Now the connection goes silent both ways; new connections through the proxy work.
        proxy.silenceOpenConnections();
        const second = await append(2n);
        await waitHandled(second, 8000);
        // Each entry once, in order, across the reconnection (earlier cases of this file appended before `first`).
        expect(handled.filter((h) => h >= first)).toEqual([first, second]);
        expect(reconnects.length).toBeGreaterThanOrEqual(1);
        expect(reconnects[0]).toMatch(/no message for 1000 ms/);
      } finally {
        stop.abort();
        await running.catch(() => {});
        transport.close();
      }
    },
    30_000,
  );
});
