import { createEventStoreClient, createLogConsumer } from "@eskit/client";
import { createNodeTransport } from "@eskit/client/node.js";
import { startTestEventStore, type TestEventStore } from "@eskit/test-kit/event-store.js";
import { describeWithTools, natsServer } from "@eskit/test-kit/system-tools.js";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startJetStreamBridge, type RunningJetStreamBridge } from "../src/app.js";
import { consumeJetStream } from "../src/client/consume-jetstream.js";
import { loadConfig } from "../src/config.js";
import { Appender, connectTestNats, natsUrl, uniqueStream, waitForStream } from "./harness.js";

// consumeJetStream reads the bridge's stream with createLogConsumer's handler: for one selector it must hand over
// exactly what a LogsPoll consumer gets, and a durable consumer must resume after the last entry it acked.

describeWithTools([natsServer], "consumeJetStream", () => {
  let store: TestEventStore;
  let nc: NatsConnection;
  let bridge: RunningJetStreamBridge;
  const s = uniqueStream();
  let log: Appender;
  const transport = () => createNodeTransport({ baseUrl: store.url, protocol: "grpc" });

  beforeAll(async () => {
    store = await startTestEventStore();
    nc = await connectTestNats();
    log = new Appender(createEventStoreClient(transport()));
    for (let i = 0; i < 12; i++) await log.append(5);
    bridge = await startJetStreamBridge(
      loadConfig({
        PORT: "0",
        EVENT_STORE_URL: store.url,
        NATS_URL: natsUrl,
        JETSTREAM_STREAM: s.stream,
        JETSTREAM_SUBJECT_PREFIX: s.prefix,
      }),
    );
    await waitForStream(nc, s.stream, log.lastId);
  });
  afterAll(async () => {
    await bridge?.close();
    await s.remove(nc);
    await nc?.close();
    await store?.stop();
  });

  /** What a LogsPoll consumer gets for `selector`, up to the last appended entry. */
  async function viaLogsPoll(selector: string, expected: number): Promise<Array<[bigint, string]>> {
    const got: Array<[bigint, string]> = [];
    const stop = new AbortController();
    await createLogConsumer(transport()).consume(
      { consumerId: `logs-poll-${selector}`, selector, start: "beginning" },
      (entry) => {
        got.push([entry.id, entry.event!.eventType]);
        if (got.length === expected) stop.abort();
      },
      { signal: stop.signal },
    );
    return got;
  }

  for (const selector of ["", "*.Deleted", "acme.v1.Order.*", "Pet.Updated"]) {
    it(`hands over what a LogsPoll consumer gets for selector ${JSON.stringify(selector)}`, async () => {
      const matching = log.ids.filter((id) => {
        const type = log.types.get(id)!;
        const dot = type.lastIndexOf(".");
        const [entity, action] = [type.slice(0, dot), type.slice(dot + 1)];
        const [wantEntity, wantAction] =
          selector === ""
            ? ["*", "*"]
            : [selector.slice(0, selector.lastIndexOf(".")), selector.slice(selector.lastIndexOf(".") + 1)];
        return (wantEntity === "*" || wantEntity === entity) && (wantAction === "*" || wantAction === action);
      });
      expect(matching.length).toBeGreaterThan(0);
      const expected = await viaLogsPoll(selector, matching.length);
      expect(expected.map(([id]) => id)).toEqual(matching);
      const got: Array<[bigint, string]> = [];
      const stop = new AbortController();
      const summary = await consumeJetStream(
        nc,
        { stream: s.stream, subjectPrefix: s.prefix, durable: `d-${Math.random().toString(36).slice(2)}`, selector },
        (entry) => {
          got.push([entry.id, entry.event!.eventType]);
          if (got.length === expected.length) stop.abort();
        },
        { signal: stop.signal },
      );
      expect(got).toEqual(expected);
      expect(summary).toEqual({ handled: expected.length, lastId: expected.at(-1)![0] });
    });
  }

  it("a durable consumer resumes after the last entry it acked", async () => {
    const durable = "resume-test";
    const options = { stream: s.stream, subjectPrefix: s.prefix, durable };
    const first: bigint[] = [];
    const stop1 = new AbortController();
    await consumeJetStream(
      nc,
      options,
      (entry) => {
        first.push(entry.id);
        if (first.length === 17) stop1.abort();
      },
      { signal: stop1.signal },
    );
    expect(first).toEqual(log.ids.slice(0, 17));
    // A handler that fails: its entry is not acked and comes first next time.
    const failing = consumeJetStream(nc, options, (entry) => {
      throw new Error(`refused ${entry.id}`);
    });
    await expect(failing).rejects.toThrow(`refused ${log.ids[17]}`);
    const second: bigint[] = [];
    const stop2 = new AbortController();
    await consumeJetStream(
      nc,
      options,
      (entry) => {
        second.push(entry.id);
        if (second.length === log.ids.length - 17) stop2.abort();
      },
      { signal: stop2.signal },
    );
    expect(second).toEqual(log.ids.slice(17));
  });
});
