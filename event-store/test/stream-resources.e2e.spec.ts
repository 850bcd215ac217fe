import { randomUUID } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { sampleValue } from "@eskit/test-kit/exposition.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Clients, clientsFor, protocols, startTestEventStore, type TestEventStore } from "./harness.js";
import { scrape } from "@eskit/test-kit/metrics.js";
import { openUnreadHttp1Streams, openUnreadHttp2Streams, type UnreadStreams } from "./support/unread-streams.js";

// What a LogsPoll stream holds ends with it: abandoned and stalled streams give back their slot (ESKIT_MAX_STREAMS)
// and leave eskit_rpc_streams_open exact; idle streams say they are alive (heartbeats).

const maxStreams = 50;
const logsPoll = { service: "eskit.eventstore.v1.EventStoreService", method: "LogsPoll" };
const payload = JSON.stringify({ text: "x".repeat(1000) });

async function gauge(url: string): Promise<number> {
  return sampleValue((await scrape(url)).samples, "eskit_rpc_streams_open", logsPoll) ?? 0;
}

/** Samples the gauge every 20 ms until `check` holds (at most `timeoutMs`); returns the highest value seen. */
async function watchGauge(url: string, check: (value: number) => boolean, timeoutMs: number): Promise<number> {
  let highest = 0;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await gauge(url);
    highest = Math.max(highest, value);
    if (check(value)) return highest;
    if (Date.now() > deadline) throw new Error(`the gauge stayed at ${value}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function preload(client: Clients, n: number): Promise<void> {
  const id = `load-${randomUUID()}`;
  await client.eventStore.appendEvents(
    Array.from({ length: n }, (_, i) => ({
      originatorId: id,
      version: BigInt(i + 1),
      eventType: "Load.Added",
      payload,
    })),
  );
}

describe("abandoned and stalled LogsPoll streams", () => {
  let store: TestEventStore;
  let client: Clients;
  beforeAll(async () => {
    store = await startTestEventStore({ maxStreams, logsPollHeartbeatMs: 0 });
    client = clientsFor(store.url, "grpc");
    // 6 MB: more than HTTP/2 flow control and the kernel's socket buffers let through to a client that does not read,
    // so streams are still producing when their clients vanish.
    for (let i = 0; i < 6; i++) await preload(client, 1000);
  });
  afterAll(async () => {
    client?.close();
    await store?.stop();
  });

  for (const [protocol, open] of [
    ["HTTP/2", openUnreadHttp2Streams],
    ["HTTP/1.1", openUnreadHttp1Streams],
  ] as const) {
    it(`over ${protocol}, streams whose clients vanished free their slots: the gauge never passes ESKIT_MAX_STREAMS and returns to 0`, async () => {
      for (let round = 0; round < 3; round++) {
        // More than the cap: the extra ones are refused; the admitted ones block on a client that never reads.
        const unread: UnreadStreams = await open(store.url, maxStreams + 20, 1n);
        const highest = await watchGauge(store.url, (g) => g === maxStreams, 10_000);
        expect(highest).toBe(maxStreams);
        await unread.close();
        expect(await watchGauge(store.url, (g) => g === 0, 5000)).toBeLessThanOrEqual(maxStreams);
      }
      // Every slot is free again: a reader is admitted and gets the log.
      let received = 0;
      for await (const entry of client.eventStore.tail({ fromId: 1n })) {
        expect(entry.id).toBe(BigInt(++received));
        if (received === 6000) break;
      }
    }, 60_000);
  }
});

describe("stalled LogsPoll streams", () => {
  let store: TestEventStore;
  let client: Clients;
  beforeAll(async () => {
    store = await startTestEventStore({ streamStallTimeoutMs: 3000, logsPollHeartbeatMs: 0 });
    client = clientsFor(store.url, "grpc");
    // 600 KB: more than HTTP/2 flow control lets through to a client that does not read.
    await preload(client, 600);
  });
  afterAll(async () => {
    client?.close();
    await store?.stop();
  });

  it("cuts a stream whose client takes nothing for ESKIT_STREAM_STALL_TIMEOUT_MS, while one that reads carries on", async () => {
    const unread = await openUnreadHttp2Streams(store.url, 5, 1n);
    try {
      await watchGauge(store.url, (g) => g === 5, 5000);
      // A reader that keeps up, opened meanwhile, is not cut: it reads on until it is stopped.
      const stop = new AbortController();
      const reading = (async () => {
        let received = 0;
        for await (const response of client.eventStore.logsPoll({ fromId: 1n }, { signal: stop.signal })) {
          received += response.entries.length;
        }
        return received;
      })().catch((error: unknown) => error);
      // The stalled ones are cut after 3 s though their connections stay open.
      await watchGauge(store.url, (g) => g === 1, 10_000);
      stop.abort();
      const outcome = await reading;
      expect(ConnectError.from(outcome).code).toBe(Code.Canceled);
    } finally {
      await unread.close();
    }
  }, 30_000);
});

describe("LogsPoll heartbeats", () => {
  const heartbeatMs = 200;
  let store: TestEventStore;
  beforeAll(async () => {
    store = await startTestEventStore({ logsPollHeartbeatMs: heartbeatMs });
  });
  afterAll(async () => {
    await store?.stop();
  });

  for (const protocol of protocols) {
    it(`sends an empty message every ESKIT_LOGS_POLL_HEARTBEAT_MS while nothing passes the filter (${protocol})`, async () => {
      const clients = clientsFor(store.url, protocol);
      const stop = new AbortController();
      const arrivals: Array<{ at: number; entries: number }> = [];
      let elapsed = 0;
      const started = performance.now();
      try {
        // Waits for the third heartbeat, however long this machine takes to deliver it (at most 10 s: a stream
        // without heartbeats fails here), rather than counting them in a fixed window.
        let third: () => void = () => {};
        const thirdArrived = new Promise<void>((resolve) => (third = resolve));
        const reading = (async () => {
          // One stream at the head of an empty log, one whose filter matches nothing ever.
          for await (const response of clients.eventStore.logsPoll(
            { fromId: 1n, selector: "Nobody.*" },
            { signal: stop.signal },
          )) {
            arrivals.push({ at: performance.now() - started, entries: response.entries.length });
            if (arrivals.length >= 3) third();
          }
        })().catch(() => {});
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([thirdArrived, new Promise((resolve) => (timer = setTimeout(resolve, 10_000)))]);
        clearTimeout(timer);
        stop.abort();
        await reading;
        elapsed = performance.now() - started;
      } finally {
        clients.close();
      }
      expect(arrivals.every((a) => a.entries === 0)).toBe(true);
      expect(arrivals.length).toBeGreaterThanOrEqual(3);
      // Not more often than every heartbeatMs: the server sends one only after heartbeatMs without a message, all of
      // it after the stream opened (`started` is taken before), so at most elapsed / heartbeatMs of them (+1 for
      // rounding). Measured here, so a slow machine only loosens the bound; a stream that sends them too often fails.
      expect(arrivals.length).toBeLessThanOrEqual(Math.floor(elapsed / heartbeatMs) + 1);
      expect(arrivals[0]!.at).toBeGreaterThanOrEqual(0.75 * heartbeatMs);
    });
  }
});
