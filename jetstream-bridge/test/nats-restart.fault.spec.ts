import { createEventStoreClient } from "@eskit/client";
import { createNodeTransport } from "@eskit/client/node.js";
import { startTestEventStore, type TestEventStore } from "@eskit/test-kit/event-store.js";
import { sampleValue } from "@eskit/test-kit/exposition.js";
import { scrape } from "@eskit/test-kit/metrics.js";
import type { SpawnedService } from "@eskit/test-kit/service-process.js";
import { describeWithTools, natsServerProgram } from "@eskit/test-kit/system-tools.js";
import { JetStreamApiError, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, expect, it } from "vitest";
import { streamSubjectOf } from "../src/subjects.js";
import {
  Appender,
  readStream,
  spawnBridge,
  streamLength,
  streamProblem,
  uniqueStream,
  waitFor,
  waitForStream,
} from "./harness.js";
import { startPrivateNats, type PrivateNats } from "./private-nats.js";

// A NATS server of the test's own, restarted (cleanly, then killed -9) while the bridge publishes, each time down
// longer than the stream's duplicate window: once back, JetStream has forgotten every message id, including the last
// one's, so neither its de-duplication nor `Nats-Expected-Last-Msg-Id` can be relied upon. The stream must still hold
// every log id once, in log order: the bridge resumes from the stream's last message (its log id header and sequence).

/** The stream's duplicate window; each outage lasts well beyond it. */
const duplicateWindowMs = 1000;
const outageMs = 3000;

describeWithTools([natsServerProgram], "jetstream bridge across NATS restarts", () => {
  let store: TestEventStore;
  let nats: PrivateNats;
  let nc: NatsConnection;
  const processes: SpawnedService[] = [];

  beforeAll(async () => {
    store = await startTestEventStore();
    nats = await startPrivateNats();
    // The test's own connection outlives the restarts, as the bridge's does.
    nc = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
  });
  afterAll(async () => {
    for (const p of processes) p.kill("SIGKILL");
    await Promise.all(processes.map((p) => p.exited));
    await nc?.close();
    await nats?.remove();
    await store?.stop();
  });

  async function createStream(stream: string, prefix: string): Promise<void> {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({
      name: stream,
      subjects: [streamSubjectOf(prefix)],
      duplicate_window: duplicateWindowMs * 1_000_000,
    });
  }

  async function restartNats(signal: NodeJS.Signals): Promise<void> {
    await nats.stop(signal);
    await new Promise((resolve) => setTimeout(resolve, outageMs));
    await natsBack();
  }

  /** Starts NATS again and waits until JetStream answers on the test's connection (it recovers streams first). */
  async function natsBack(): Promise<void> {
    await nats.start();
    await waitFor(
      () => canPublish(nc),
      20_000,
      async () => `no JetStream on ${nats.url} after the restart:\n${nats.output()}`,
    );
  }

  it("after a restart longer than the duplicate window JetStream knows neither the msg ids nor the last one", async () => {
    const s = uniqueStream();
    await createStream(s.stream, s.prefix);
    const js = jetstream(nc);
    const subject = `${s.prefix}.Pet.Created`;
    expect((await js.publish(subject, "one", { msgID: "1" })).seq).toBe(1);
    expect((await js.publish(subject, "one", { msgID: "1" })).duplicate).toBe(true);
    await js.publish(subject, "two", { msgID: "2", expect: { lastMsgID: "1" } });
    await restartNats("SIGTERM");
    // What the bridge must not rely on: the stream's last msg id is refused as an expectation...
    const refused = await js.publish(subject, "three", { msgID: "3", expect: { lastMsgID: "2" } }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(JetStreamApiError);
    expect((refused as JetStreamApiError).code).toBe(10070);
    // ... and a repeat of it is stored again rather than dropped.
    const repeat = await js.publish(subject, "two", { msgID: "2" });
    expect(repeat.duplicate).toBe(false);
    expect(repeat.seq).toBe(3);
    await s.remove(nc);
  });

  it("every log id reaches the stream once, in order, across NATS restarts longer than the duplicate window", async () => {
    const s = uniqueStream();
    await createStream(s.stream, s.prefix);
    const transport = createNodeTransport({ baseUrl: store.url, protocol: "grpc" });
    const log = new Appender(createEventStoreClient(transport));
    const env = {
      EVENT_STORE_URL: store.url,
      NATS_URL: nats.url,
      JETSTREAM_STREAM: s.stream,
      JETSTREAM_SUBJECT_PREFIX: s.prefix,
      CONSUMER_ID: `bridge-${s.stream}`,
    };
    for (let i = 0; i < 20; i++) await log.append(50);
    let bridge = await spawnBridge(env);
    processes.push(bridge);
    // Appends go on for the whole test, so that the bridge is publishing whenever NATS goes away.
    let appending = true;
    const appends = (async () => {
      while (appending) {
        await log.append(10);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    let conflicts = 0;
    try {
      for (const signal of ["SIGTERM", "SIGKILL"] as const) {
        const before = await streamLength(nc, s.stream);
        await waitFor(
          async () => (await streamLength(nc, s.stream)) > before + 100,
          60_000,
          async () => `the bridge published nothing since ${before} messages:\n${bridge.stderr()}`,
        );
        if (signal === "SIGKILL") {
          // NATS crashes, and so does the bridge, which then starts with a stream whose last msg id JetStream forgot.
          await nats.stop("SIGKILL");
          conflicts += await conflictsOf(bridge, s.stream);
          bridge.kill("SIGKILL");
          await bridge.exited;
          await new Promise((resolve) => setTimeout(resolve, outageMs));
          await natsBack();
          bridge = await spawnBridge(env);
          processes.push(bridge);
        } else {
          await restartNats(signal);
        }
        const atRestart = await streamLength(nc, s.stream);
        await waitFor(
          async () => (await streamLength(nc, s.stream)) > atRestart + 100,
          60_000,
          async () =>
            `the bridge published nothing after the ${signal} restart:\n${bridge.stdout().slice(-6000)}\n${bridge.stderr()}`,
        );
        const messages = await readStream(nc, s.stream);
        // So far the stream is a prefix of the log: no duplicate, no disorder, no gap.
        expect(streamProblem(messages, log.ids.slice(0, messages.length))).toBeUndefined();
      }
    } finally {
      appending = false;
      await appends;
    }
    const messages = await waitForStream(nc, s.stream, log.lastId, 120_000);
    expect(streamProblem(messages, log.ids)).toBeUndefined();
    expect(messages.every((m) => m.msgId === String(m.logId))).toBe(true);
    // The bridge did meet the refusals this test is about (a publish expecting a last msg id JetStream forgot).
    conflicts += await conflictsOf(bridge, s.stream);
    expect(conflicts).toBeGreaterThanOrEqual(1);
    bridge.kill("SIGTERM");
    expect(await bridge.exited).toBe(0);
    transport.close();
    await s.remove(nc);
  });
});

/** Whether JetStream answers a request on `nc` (after a restart it takes a moment to recover its streams). */
async function canPublish(nc: NatsConnection): Promise<boolean> {
  try {
    await (await jetstreamManager(nc)).getAccountInfo();
    return true;
  } catch {
    return false;
  }
}

async function conflictsOf(bridge: SpawnedService, stream: string): Promise<number> {
  return sampleValue((await scrape(bridge.url)).samples, "eskit_jetstream_bridge_conflicts_total", { stream }) ?? 0;
}
