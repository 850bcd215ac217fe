import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  type AppendStreamRequest,
  AppendStreamRequestSchema,
  type AppendStreamResponse,
} from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
import { describe, expect, it } from "vitest";
import { ValidationError } from "../domain/errors.js";
import type { ValidEvent } from "../domain/validate-append.js";
import { appendInStreamOrder } from "./append-stream.js";

// The handler's pipeline against a batcher and a request stream it drives by hand: how far it reads ahead, when a
// later request's error shows, and what a call that ends does to the waits under way.

const limits = { maxEventBytes: 1024, maxRequestBytes: 4096, maxEvents: 10 };

const request = (k: number): AppendStreamRequest =>
  create(AppendStreamRequestSchema, {
    events: [{ originator: { id: `o${k}`, version: 1n }, eventType: "Order.Placed", payload: "{}" }],
  });

/** A request stream that counts what the handler pulled (its end too); `hold` keeps back the reads from one on. */
function requests(count: number, opts: { failAt?: number } = {}) {
  let pulled = 0;
  // Reads of index `released` and beyond wait (the end of the stream included).
  let released = Number.MAX_SAFE_INTEGER;
  const waiting: Array<() => void> = [];
  const source: AsyncIterable<AppendStreamRequest> = {
    [Symbol.asyncIterator]: () => ({
      async next() {
        const k = pulled++;
        while (k >= released) await new Promise<void>((resolve) => waiting.push(resolve));
        if (k === opts.failAt) throw new ConnectError("the stream broke", Code.Unavailable);
        return k < count ? { value: request(k), done: false } : { value: undefined, done: true };
      },
    }),
  };
  return {
    source,
    get pulled() {
      return pulled;
    },
    hold(upTo: number) {
      released = upTo;
    },
    release() {
      released = Number.MAX_SAFE_INTEGER;
      for (const resolve of waiting.splice(0)) resolve();
    },
  };
}

/** A batcher whose writes commit only when the test says so; it records what it was asked to write. */
function manualBatcher() {
  const writes: Array<{ events: readonly ValidEvent[]; commit(): void; fail(error: unknown): void }> = [];
  let nextId = 1n;
  return {
    writes,
    append(events: readonly ValidEvent[]): Promise<bigint[]> {
      return new Promise((resolve, reject) => {
        writes.push({ events, commit: () => resolve(events.map(() => nextId++)), fail: reject });
      });
    },
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

async function collect(stream: AsyncGenerator<AppendStreamResponse>) {
  const answers: bigint[][] = [];
  try {
    for await (const answer of stream) answers.push(answer.logIds);
    return { answers, error: undefined };
  } catch (error) {
    return { answers, error };
  }
}

describe("appendInStreamOrder", () => {
  it("reads at most one request ahead of the write under way and writes the next only after it committed", async () => {
    const source = requests(5);
    const batcher = manualBatcher();
    const done = collect(appendInStreamOrder(source.source, batcher, limits, new AbortController().signal));
    for (let k = 0; k < 5; k++) {
      await settle();
      expect(batcher.writes).toHaveLength(k + 1);
      expect(batcher.writes[k]!.events[0]!.originatorId).toBe(`o${k}`);
      // Request k is being written: request k + 1 has been read, nothing beyond it.
      expect(source.pulled).toBe(k + 2);
      batcher.writes[k]!.commit();
    }
    expect(await done).toEqual({ answers: [[1n], [2n], [3n], [4n], [5n]], error: undefined });
  });

  it("answers the requests before a malformed one, then fails with its error, writing nothing after", async () => {
    const malformed = create(AppendStreamRequestSchema, { events: [] });
    const source: AsyncIterable<AppendStreamRequest> = (async function* () {
      yield request(0);
      yield malformed;
      yield request(2);
    })();
    const batcher = manualBatcher();
    const done = collect(appendInStreamOrder(source, batcher, limits, new AbortController().signal));
    await settle();
    // The malformed request was read (and refused) while request 0 was being written: its error waits its turn.
    batcher.writes[0]!.commit();
    const { answers, error } = await done;
    expect(answers).toEqual([[1n]]);
    expect(error).toBeInstanceOf(ValidationError);
    expect(batcher.writes).toHaveLength(1);
  });

  it("fails with a write's error after the answers before it, and reads no further", async () => {
    const source = requests(4);
    const batcher = manualBatcher();
    const done = collect(appendInStreamOrder(source.source, batcher, limits, new AbortController().signal));
    await settle();
    batcher.writes[0]!.commit();
    await settle();
    batcher.writes[1]!.fail(new ConnectError("version conflict", Code.Aborted));
    const { answers, error } = await done;
    expect(answers).toEqual([[1n]]);
    expect(error).toMatchObject({ code: Code.Aborted });
    expect(batcher.writes).toHaveLength(2);
    expect(source.pulled).toBe(3);
  });

  it("surfaces a broken request stream only after the answer of the request before it", async () => {
    const source = requests(3, { failAt: 1 });
    const batcher = manualBatcher();
    const done = collect(appendInStreamOrder(source.source, batcher, limits, new AbortController().signal));
    await settle();
    batcher.writes[0]!.commit();
    const { answers, error } = await done;
    expect(answers).toEqual([[1n]]);
    expect(error).toMatchObject({ code: Code.Unavailable, rawMessage: "the stream broke" });
  });

  it("ends at once when the call's signal fires during a write that never settles, and writes nothing more", async () => {
    const source = requests(3);
    const batcher = manualBatcher();
    const call = new AbortController();
    const done = collect(appendInStreamOrder(source.source, batcher, limits, call.signal));
    await settle();
    call.abort(new ConnectError("the call was canceled", Code.Canceled));
    const { answers, error } = await done;
    expect(answers).toEqual([]);
    expect(error).toMatchObject({ code: Code.Canceled });
    // The write left behind fails later: that is no unhandled rejection (vitest would report one).
    batcher.writes[0]!.fail(new Error("canceled in PostgreSQL"));
    await settle();
    expect(batcher.writes).toHaveLength(1);
  });

  it("ends at once when the call's signal fires while it waits for a request, leaving the read pending", async () => {
    const source = requests(3);
    source.hold(1);
    const batcher = manualBatcher();
    const call = new AbortController();
    const done = collect(appendInStreamOrder(source.source, batcher, limits, call.signal));
    await settle();
    batcher.writes[0]!.commit();
    await settle();
    call.abort(new ConnectError("the call was canceled", Code.Canceled));
    const { answers, error } = await done;
    expect(answers).toEqual([[1n]]);
    expect(error).toMatchObject({ code: Code.Canceled });
    // The read still pending completes after the call ended: nothing is written for it.
    source.release();
    await settle();
    expect(batcher.writes).toHaveLength(1);
  });
});
