import * as http2 from "node:http2";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { EventSchema } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import { EventStoreService } from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
import { serveHttp2ForTests } from "@eskit/test-kit/http2-test-server.js";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { createEventStoreClient } from "./event-store-client.js";
import type { NewEvent } from "./new-event.js";
import { createNodeTransport, type NodeProtocol, type NodeTransport } from "./node.js";

// appendInOrder against a stand-in AppendStream over real HTTP/2: the stand-in reads every request as soon as it
// arrives (unlike the Event Store, which reads one ahead), so what it holds unanswered is what the client sent
// ahead; it answers each after `answerDelayMs`, with log ids counting up, and fails the request whose first event
// has the type `Fail.Now` with `aborted`. Each test's originators start with a prefix of its own, under which the
// stand-in notes what it received (a call canceled by the test before may still deliver a request late).

let answerDelayMs = 0;
/** By test prefix: the events received (`id@version`), and the most requests held unanswered at once. */
const seen = new Map<string, { received: string[]; mostUnanswered: number }>();
/** By test prefix: resolved when the server saw the call end. */
const callsEnded = new Map<string, Promise<void>>();
let prefix = "";
let tests = 0;
const seenHere = () => seen.get(prefix) ?? { received: [], mostUnanswered: 0 };
/** Resolves when the server saw this test's call end. */
const callEnded = async () => {
  await vi.waitFor(() => expect(callsEnded.has(prefix)).toBe(true));
  await callsEnded.get(prefix);
};

function routes(router: ConnectRouter): void {
  router.service(EventStoreService, {
    async *appendStream(requests, context) {
      const callEnd = new Promise<void>((resolve) =>
        context.signal.addEventListener("abort", () => resolve(), { once: true }),
      );
      const queue: Array<{ types: string[] }> = [];
      let ended = false;
      let wake: (() => void) | undefined;
      let answered = 0;
      let got = 0;
      void (async () => {
        try {
          for await (const request of requests) {
            queue.push({ types: request.events.map((e) => e.eventType) });
            const test = (request.events[0]?.originator?.id ?? "").split(":")[0]!;
            const notes = seen.get(test) ?? { received: [], mostUnanswered: 0 };
            seen.set(test, notes);
            if (!callsEnded.has(test)) callsEnded.set(test, callEnd);
            notes.received.push(...request.events.map((e) => `${e.originator?.id}@${e.originator?.version}`));
            notes.mostUnanswered = Math.max(notes.mostUnanswered, ++got - answered);
            wake?.();
          }
        } catch {
          // The call ended under the reader: the loop below ends on the signal.
        }
        ended = true;
        wake?.();
      })();
      let nextId = 1n;
      for (;;) {
        while (queue.length === 0 && !ended && !context.signal.aborted) {
          await new Promise<void>((resolve) => (wake = resolve));
        }
        const request = queue.shift();
        if (request === undefined) return;
        await new Promise((resolve) => setTimeout(resolve, answerDelayMs));
        if (request.types[0] === "Fail.Now") throw new ConnectError("version conflict", Code.Aborted);
        answered++;
        yield { logIds: request.types.map(() => nextId++) };
      }
    },
  });
}

const server = http2.createServer(connectNodeAdapter({ routes }));
const served = serveHttp2ForTests(server);
beforeEach(() => {
  answerDelayMs = 0;
  prefix = `t${++tests}`;
});

const batch = (k: number, size = 2, eventType = "Order.Placed"): NewEvent[] =>
  Array.from({ length: size }, (_, i) => ({ originatorId: `${prefix}:o${k}`, version: BigInt(i + 1), eventType }));

async function collect(iterable: AsyncIterable<bigint[]>) {
  const answers: bigint[][] = [];
  try {
    for await (const ids of iterable) answers.push(ids);
    return { answers, error: undefined };
  } catch (error) {
    return { answers, error };
  }
}

describe.each<NodeProtocol>(["connect", "grpc", "grpc-web"])("appendInOrder over %s (HTTP/2)", (protocol) => {
  let transport: NodeTransport;
  beforeAll(() => {
    transport = createNodeTransport({ baseUrl: served.url(), protocol, httpVersion: "2" });
  });
  afterAll(() => transport.close());

  it("yields each batch's log ids in batch order, from new events and from proto events alike", async () => {
    const client = createEventStoreClient(transport);
    const proto = create(EventSchema, { originator: { id: `${prefix}:p`, version: 7n }, eventType: "Order.Placed" });
    const { answers, error } = await collect(client.appendInOrder([batch(0), [proto], batch(2, 3)]));
    expect(error).toBeUndefined();
    expect(answers).toEqual([[1n, 2n], [3n], [4n, 5n, 6n]]);
    expect(seenHere().received).toEqual(["o0@1", "o0@2", "p@7", "o2@1", "o2@2", "o2@3"].map((e) => `${prefix}:${e}`));
  });

  it.each([1, 3])("keeps at most window = %i batches unanswered, and uses them", async (window) => {
    answerDelayMs = 15;
    const client = createEventStoreClient(transport);
    const batches = Array.from({ length: 12 }, (_, k) => batch(k));
    const { answers, error } = await collect(client.appendInOrder(batches, { window }));
    expect(error).toBeUndefined();
    expect(answers).toHaveLength(12);
    expect(seenHere().mostUnanswered).toBe(window);
  });

  it("ends with the error of the first batch that fails, after the ids of the batches before it", async () => {
    const client = createEventStoreClient(transport);
    const batches = [batch(0), batch(1), batch(2, 1, "Fail.Now"), batch(3)];
    const { answers, error } = await collect(client.appendInOrder(batches));
    expect(answers).toEqual([
      [1n, 2n],
      [3n, 4n],
    ]);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.Aborted);
  });

  it("cancels the call when the caller leaves the loop early", async () => {
    answerDelayMs = 5;
    const client = createEventStoreClient(transport);
    const batches = Array.from({ length: 1000 }, (_, k) => batch(k));
    for await (const ids of client.appendInOrder(batches)) {
      expect(ids).toEqual([1n, 2n]);
      break;
    }
    await callEnded();
    expect(seenHere().received.length).toBeLessThan(2 * 10);
  });

  it("fails with the batches' own error when they throw, and cancels the call", async () => {
    const client = createEventStoreClient(transport);
    const broken = new Error("cannot read the next batch");
    async function* batches() {
      yield batch(0);
      throw broken;
    }
    const { error } = await collect(client.appendInOrder(batches()));
    expect(error).toBe(broken);
    await callEnded();
  });
});

describe("appendInOrder's options", () => {
  it("refuses a window below 1 with invalid_argument before calling", async () => {
    const transport = createNodeTransport({ baseUrl: served.url(), protocol: "grpc" });
    try {
      const { error } = await collect(createEventStoreClient(transport).appendInOrder([batch(0)], { window: 0 }));
      expect(error).toMatchObject({ code: Code.InvalidArgument });
      expect(seenHere().received).toEqual([]);
    } finally {
      transport.close();
    }
  });
});
