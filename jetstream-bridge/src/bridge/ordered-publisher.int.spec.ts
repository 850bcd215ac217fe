import type { AppLogEntry } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import { describeWithTools, natsServer } from "@eskit/test-kit/system-tools.js";
import { startTcpProxy } from "@eskit/test-kit/tcp-proxy.js";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, headers, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import {
  connectTestNats,
  natsUrl,
  readStream,
  streamProblem,
  syntheticEntries,
  uniqueStream,
} from "../../test/harness.js";
import { encodeEntry, headerNames } from "../encoding.js";
import { streamSubjectOf, subjectOf } from "../subjects.js";
import { ensureStream } from "./ensure-stream.js";
import { OrderedPublisher, type PublishOutcome } from "./ordered-publisher.js";

// The publisher against the real NATS server, with many publishes in flight: whatever refuses or loses some of them
// (other publishers racing over the same entries, a connection cut mid-window, a last message whose msg id JetStream
// does not know), the stream must hold each entry once, in log order, and the publisher must report each entry once,
// in order, as published by it only when JetStream stored it for it.

const entries = syntheticEntries;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Batch sizes as LogsPoll responses come: one entry, a full window and one more, many windows, a few. */
const batchSizes = [1, 250, 7, 64, 65, 300, 3];

function batches(all: readonly AppLogEntry[]): AppLogEntry[][] {
  const out: AppLogEntry[][] = [];
  for (let at = 0, i = 0; at < all.length; i++) {
    out.push(all.slice(at, at + batchSizes[i % batchSizes.length]!));
    at += batchSizes[i % batchSizes.length]!;
  }
  return out;
}

interface Probe {
  readonly publisher: OrderedPublisher;
  /** What the publisher reported, in the order it did. */
  readonly reported: Array<[bigint, PublishOutcome]>;
  readonly counts: { errors: number; conflicts: number };
}

describeWithTools([natsServer], "OrderedPublisher with publishes in flight", () => {
  let nc: NatsConnection;
  const cleanup: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    nc = await connectTestNats();
  });
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });
  afterAll(async () => {
    await nc?.close();
  });

  /** A new stream; with `duplicateWindowMs`, JetStream forgets msg ids that soon (as a restart makes it forget). */
  async function testStream(duplicateWindowMs?: number) {
    const s = uniqueStream();
    cleanup.push(() => s.remove(nc));
    const jsm = await jetstreamManager(nc);
    if (duplicateWindowMs === undefined) await ensureStream(jsm, s.stream, s.prefix);
    else
      await jsm.streams.add({
        name: s.stream,
        subjects: [streamSubjectOf(s.prefix)],
        duplicate_window: duplicateWindowMs * 1_000_000,
      });
    return s;
  }

  async function probe(
    s: { stream: string; prefix: string },
    window: number,
    connection?: NatsConnection,
  ): Promise<Probe> {
    const conn = connection ?? (await connectTestNats());
    if (connection === undefined) cleanup.push(() => conn.close());
    const counts = { errors: 0, conflicts: 0 };
    const publisher = new OrderedPublisher({
      js: jetstream(conn),
      jsm: await jetstreamManager(conn),
      stream: s.stream,
      subjectPrefix: s.prefix,
      encoding: "protobuf",
      ackTimeoutMs: 1000,
      window,
      backoff: { initialDelayMs: 10, maxDelayMs: 200 },
      onError: () => counts.errors++,
      onConflict: () => counts.conflicts++,
    });
    return { publisher, reported: [], counts };
  }

  /** Publishes `all` batch by batch; `afterBatch` may pause (resolving later) or interfere. */
  async function publishInBatches(
    p: Probe,
    all: readonly AppLogEntry[],
    afterBatch: (done: number, batch: number) => unknown = () => {},
  ) {
    let done = 0;
    let index = 0;
    for (const batch of batches(all)) {
      await p.publisher.publishAll(batch, new AbortController().signal, (entry, outcome) =>
        p.reported.push([entry.id, outcome]),
      );
      await afterBatch((done += batch.length), index++);
    }
  }

  function expectReportedOnceInOrder(p: Probe, all: readonly AppLogEntry[]) {
    expect(p.reported.map(([id]) => id)).toEqual(all.map((e) => e.id));
  }

  it.each([
    ["with JetStream's de-duplication", undefined],
    ["when JetStream forgot the msg ids of those behind (a 100 ms duplicate window)", 100],
  ])(
    "publishers racing over the same entries (64, 8 and 1 in flight) put each on the stream once, in log order, %s",
    async (_, duplicateWindowMs) => {
      const s = await testStream(duplicateWindowMs);
      const all = entries(0, 3000);
      const racers = await Promise.all([64, 8, 1].map((window) => probe(s, window)));
      // Each pauses now and then (0 to 300 ms) between batches, and comes back expecting the stream as it left it.
      const pause = (r: number) => (_: number, batch: number) => sleep(((batch * 7 + r * 3) % 4) * 100);
      await Promise.all(racers.map((p, r) => publishInBatches(p, all, pause(r))));
      const messages = await readStream(nc, s.stream);
      expect(
        streamProblem(
          messages,
          all.map((e) => e.id),
        ),
      ).toBeUndefined();
      expect(messages.every((m) => m.msgId === String(m.logId))).toBe(true);
      for (const p of racers) expectReportedOnceInOrder(p, all);
      // Each entry was stored for exactly one of them: the others found it there.
      const published = racers.flatMap((p) => p.reported.filter(([, outcome]) => outcome === "published"));
      expect(published.length).toBe(all.length);
      expect(new Set(published.map(([id]) => id)).size).toBe(all.length);
      // A publisher that comes back more than the duplicate window late is refused (its expectation fails), not acked
      // as a duplicate.
      if (duplicateWindowMs !== undefined)
        expect(racers.reduce((sum, p) => sum + p.counts.conflicts, 0)).toBeGreaterThan(0);
    },
  );

  it("a connection cut with a window of publishes in flight leaves no duplicate and no gap", async () => {
    const s = await testStream();
    const proxy = await startTcpProxy({ host: "127.0.0.1", port: Number(new URL(natsUrl).port) });
    cleanup.push(() => proxy.close());
    const conn = await connect({
      servers: `nats://127.0.0.1:${proxy.port}`,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 100,
    });
    cleanup.push(() => conn.close());
    const p = await probe(s, 64, conn);
    const all = entries(0, 3000);
    let cut = false;
    await publishInBatches(p, all, (done) => {
      if (cut || done < 300) return;
      cut = true;
      // Cut while the next batch goes out, and back after more than an ack timeout.
      void proxy.cut().then(() => setTimeout(() => void proxy.restore(), 1500));
    });
    const messages = await readStream(nc, s.stream);
    expect(
      streamProblem(
        messages,
        all.map((e) => e.id),
      ),
    ).toBeUndefined();
    expectReportedOnceInOrder(p, all);
    expect(p.counts.errors).toBeGreaterThan(0);
  });

  it("goes on by sequence after a last message whose msg id JetStream does not know", async () => {
    const s = await testStream();
    const p = await probe(s, 16);
    const all = entries(0, 300);
    await publishInBatches(p, all.slice(0, 100));
    // Another writer puts the next entry there without a msg id: JetStream's last msg id is now empty.
    const foreign = all[100]!;
    const h = headers();
    h.set(headerNames.logId, String(foreign.id));
    await jetstream(nc).publish(subjectOf(s.prefix, foreign.event!.eventType), encodeEntry(foreign, "protobuf").data, {
      headers: h,
    });
    await publishInBatches(p, all.slice(100));
    const messages = await readStream(nc, s.stream);
    expect(
      streamProblem(
        messages,
        all.map((e) => e.id),
      ),
    ).toBeUndefined();
    expectReportedOnceInOrder(p, all);
    expect(p.reported[100]).toEqual([foreign.id, "present"]);
    expect(p.reported.filter(([, outcome]) => outcome === "published").length).toBe(299);
    expect(p.counts.conflicts).toBeGreaterThan(0);
  });
});
