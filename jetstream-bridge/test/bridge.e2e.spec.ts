import { createEventStoreClient } from "@eskit/client";
import { createNodeTransport } from "@eskit/client/node.js";
import { startTestEventStore, type TestEventStore } from "@eskit/test-kit/event-store.js";
import { scrape } from "@eskit/test-kit/metrics.js";
import { sampleValue } from "@eskit/test-kit/exposition.js";
import { describeWithTools, natsServer } from "@eskit/test-kit/system-tools.js";
import { startTcpProxy, type TcpProxy } from "@eskit/test-kit/tcp-proxy.js";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { startJetStreamBridge, type RunningJetStreamBridge } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { decodeEntry } from "../src/encoding.js";
import { subjectOf } from "../src/subjects.js";
import {
  Appender,
  connectTestNats,
  natsUrl,
  streamProblem,
  uniqueStream,
  waitForStream,
  type TestStream,
} from "./harness.js";

// The bridge in this process, against a real Event Store (PGlite, or PostgreSQL with DATABASE_URL) and the real NATS
// server: what reaches the stream is compared with the log ids the Event Store answered, entry by entry.

describeWithTools([natsServer], "jetstream bridge", () => {
  let store: TestEventStore;
  let nc: NatsConnection;
  // Every entry of the log (the tests share one Event Store, and each new stream starts at its beginning).
  const logIds: bigint[] = [];
  const logTypes = new Map<bigint, string>();
  const cleanup: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    store = await startTestEventStore();
    nc = await connectTestNats();
  });
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });
  afterAll(async () => {
    await nc?.close();
    await store?.stop();
  });

  function appender(): Appender {
    const transport = createNodeTransport({ baseUrl: store.url, protocol: "grpc" });
    cleanup.push(async () => transport.close());
    return new Appender(createEventStoreClient(transport), logIds, logTypes);
  }

  function testStream(): TestStream {
    const s = uniqueStream();
    cleanup.push(() => s.remove(nc));
    return s;
  }

  async function bridge(s: TestStream, env: Record<string, string> = {}): Promise<RunningJetStreamBridge> {
    const running = await startJetStreamBridge(
      loadConfig({
        PORT: "0",
        HOST: "127.0.0.1",
        EVENT_STORE_URL: store.url,
        NATS_URL: natsUrl,
        JETSTREAM_STREAM: s.stream,
        JETSTREAM_SUBJECT_PREFIX: s.prefix,
        CONSUMER_ID: `bridge-${s.stream}`,
        ESKIT_LAG_INTERVAL_MS: "200",
        JETSTREAM_ACK_TIMEOUT_MS: "1000",
        ...env,
      }),
    );
    cleanup.push(() => running.close());
    return running;
  }

  it("puts every entry on the stream once, in log order, with its subject, headers and protobuf body", async () => {
    const s = testStream();
    const log = appender();
    for (let i = 0; i < 10; i++) await log.append(7);
    const running = await bridge(s);
    // Appended while the bridge runs.
    for (let i = 0; i < 10; i++) await log.append(5);
    const messages = await waitForStream(nc, s.stream, log.lastId);
    expect(streamProblem(messages, logIds)).toBeUndefined();
    for (const m of messages) {
      const type = logTypes.get(m.logId)!;
      expect(m.msgId).toBe(String(m.logId));
      expect(m.eventType).toBe(type);
      expect(m.subject).toBe(subjectOf(s.prefix, type));
      expect(m.contentType).toBe("application/protobuf");
      const entry = decodeEntry(m.data, m.contentType);
      expect(entry.id).toBe(m.logId);
      expect(entry.event?.eventType).toBe(type);
    }
    expect(subjectOf(s.prefix, "acme.v1.Order.Placed")).toBe(`${s.prefix}.acme%2Ev1%2EOrder.Placed`);
    const samples = (await scrape(running.url)).samples;
    const labels = { stream: s.stream };
    expect(sampleValue(samples, "eskit_jetstream_bridge_published_total", labels)).toBe(logIds.length);
    expect(sampleValue(samples, "eskit_jetstream_bridge_last_published_id", labels)).toBe(Number(log.lastId));
    expect(sampleValue(samples, "eskit_jetstream_bridge_publish_errors_total", labels)).toBe(0);
    await expect
      .poll(async () => sampleValue((await scrape(running.url)).samples, "eskit_jetstream_bridge_lag_events", labels))
      .toBe(0);
  });

  it("writes proto3 JSON when JETSTREAM_ENCODING=json", async () => {
    const s = testStream();
    const log = appender();
    await log.append(3);
    await bridge(s, { JETSTREAM_ENCODING: "json" });
    const messages = await waitForStream(nc, s.stream, log.lastId);
    expect(streamProblem(messages, logIds)).toBeUndefined();
    const last = messages.at(-1)!;
    expect(last.contentType).toBe("application/json");
    const json = JSON.parse(new TextDecoder().decode(last.data)) as { id: string; event: { eventType: string } };
    expect(json.id).toBe(String(log.lastId));
    expect(json.event.eventType).toBe(logTypes.get(log.lastId));
    expect(decodeEntry(last.data, last.contentType).id).toBe(log.lastId);
  });

  it("two bridges on one stream at once publish every entry once, in order", async () => {
    const s = testStream();
    const log = appender();
    await log.append(10);
    const bridges = await Promise.all([bridge(s), bridge(s)]);
    for (let i = 0; i < 30; i++) await log.append(10);
    const messages = await waitForStream(nc, s.stream, log.lastId);
    expect(streamProblem(messages, logIds)).toBeUndefined();
    // Between them they published each entry once: what one found on the stream, the other had put there.
    const published = await Promise.all(
      bridges.map(async (b) =>
        sampleValue((await scrape(b.url)).samples, "eskit_jetstream_bridge_published_total", { stream: s.stream }),
      ),
    );
    expect(published[0]! + published[1]!).toBe(logIds.length);
  });

  it("loses nothing and repeats nothing while NATS is unreachable for a while", async () => {
    const s = testStream();
    const proxy: TcpProxy = await startTcpProxy({ host: "127.0.0.1", port: 4222 });
    cleanup.push(() => proxy.close());
    const log = appender();
    const running = await bridge(s, { NATS_URL: `nats://127.0.0.1:${proxy.port}` });
    for (let i = 0; i < 5; i++) await log.append(10);
    await waitForStream(nc, s.stream, log.lastId);
    await proxy.cut();
    for (let i = 0; i < 10; i++) await log.append(10);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    await proxy.restore();
    for (let i = 0; i < 5; i++) await log.append(10);
    const messages = await waitForStream(nc, s.stream, log.lastId);
    expect(streamProblem(messages, logIds)).toBeUndefined();
    const errors = sampleValue((await scrape(running.url)).samples, "eskit_jetstream_bridge_publish_errors_total", {
      stream: s.stream,
    });
    expect(errors).toBeGreaterThan(0);
  });
});
