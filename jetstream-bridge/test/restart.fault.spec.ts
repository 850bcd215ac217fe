import { createEventStoreClient } from "@eskit/client";
import { createNodeTransport } from "@eskit/client/node.js";
import { startTestEventStore, type TestEventStore } from "@eskit/test-kit/event-store.js";
import type { SpawnedService } from "@eskit/test-kit/service-process.js";
import { describeWithTools, natsServer } from "@eskit/test-kit/system-tools.js";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  Appender,
  connectTestNats,
  natsUrl,
  readStream,
  spawnBridge,
  streamLength,
  streamProblem,
  uniqueStream,
  waitForStream,
} from "./harness.js";

// The bridge as a process, as in production, killed without warning (SIGKILL) again and again while events are
// appended, and started again each time: whatever it had published, acked or not, and whatever offset it had saved,
// the stream must end up with every log id once, in log order.

describeWithTools([natsServer], "jetstream bridge under kill -9", () => {
  let store: TestEventStore;
  let nc: NatsConnection;
  const s = uniqueStream();
  const processes: SpawnedService[] = [];

  beforeAll(async () => {
    store = await startTestEventStore();
    nc = await connectTestNats();
  });
  afterAll(async () => {
    for (const p of processes) p.kill("SIGKILL");
    await Promise.all(processes.map((p) => p.exited));
    await s.remove(nc);
    await nc?.close();
    await store?.stop();
  });

  it("every log id reaches the stream once, in order, across several kill -9 mid-stream", async () => {
    const transport = createNodeTransport({ baseUrl: store.url, protocol: "grpc" });
    const log = new Appender(createEventStoreClient(transport));
    const env = {
      EVENT_STORE_URL: store.url,
      NATS_URL: natsUrl,
      JETSTREAM_STREAM: s.stream,
      JETSTREAM_SUBJECT_PREFIX: s.prefix,
      CONSUMER_ID: `bridge-${s.stream}`,
    };
    for (let i = 0; i < 20; i++) await log.append(50);
    let kills = 0;
    for (let round = 0; round < 5; round++) {
      const bridge = await spawnBridge(env);
      processes.push(bridge);
      // Kill it while it is publishing: once the stream has moved past its state at start, with appends going on.
      // (Counted, not read: reading every message takes longer than a bridge with a publish window needs to catch up.)
      const before = await streamLength(nc, s.stream);
      const appending = (async () => {
        for (let i = 0; i < 10; i++) await log.append(20);
      })();
      for (let tries = 0; tries < 100 && (await streamLength(nc, s.stream)) <= before; tries++)
        await new Promise((resolve) => setTimeout(resolve, 20));
      bridge.kill("SIGKILL");
      await bridge.exited;
      kills++;
      await appending;
      const messages = await readStream(nc, s.stream);
      // Whatever it got to, the stream so far is a prefix of the log: no duplicate, no disorder, no gap.
      expect(streamProblem(messages, log.ids.slice(0, messages.length))).toBeUndefined();
      if (messages.length >= log.ids.length) break;
    }
    expect(kills).toBeGreaterThanOrEqual(2);
    const last = await spawnBridge(env);
    processes.push(last);
    for (let i = 0; i < 5; i++) await log.append(10);
    const messages = await waitForStream(nc, s.stream, log.lastId, 120_000);
    expect(streamProblem(messages, log.ids)).toBeUndefined();
    expect(last.kill("SIGTERM")).toBeUndefined();
    expect(await last.exited).toBe(0);
    transport.close();
  });
});
