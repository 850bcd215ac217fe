import { create } from "@bufbuild/protobuf";
import { AppLogEntrySchema, type AppLogEntry } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import { LogsPollResponseSchema, type LogsPollResponse } from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { entryBytes, readAhead, type ReadAheadLimits } from "./projection-read-ahead.js";

function entry(id: number, payloadLength = 10): AppLogEntry {
  return create(AppLogEntrySchema, {
    id: BigInt(id),
    event: { originator: { id: `o${id % 3}`, version: 1n }, eventType: "T.t", payload: "x".repeat(payloadLength) },
  });
}

const message = (entries: AppLogEntry[]): LogsPollResponse => create(LogsPollResponseSchema, { entries });

/** Consecutive entries from id 1, cut into messages of the given sizes (0: a heartbeat). */
function messagesOf(sizes: number[], payloadLength = (_id: number) => 10): LogsPollResponse[] {
  let id = 0;
  return sizes.map((size) => message(Array.from({ length: size }, () => entry(++id, payloadLength(id)))));
}

/** How the source's messages arrive: all at once, or each after a few turns of the event loop or a timer. */
type Pace = "ready" | { readonly turns: number } | { readonly ms: number };

const paced = (pace: Pace) =>
  pace === "ready"
    ? Promise.resolve()
    : "turns" in pace
      ? Array.from({ length: pace.turns }).reduce<Promise<void>>(
          (p) => p.then(() => new Promise((resolve) => setImmediate(resolve))),
          Promise.resolve(),
        )
      : new Promise<void>((resolve) => setTimeout(resolve, pace.ms));

/**
 * A LogsPoll stream of `messages`, then `end` (an error, or the end); records how many entries it had handed out
 * whenever it is asked for the next message, and whether it is still being read.
 */
function source(messages: LogsPollResponse[], paces: (i: number) => Pace, end?: Error) {
  const seen = { handedOut: 0, askedAt: [] as number[], closed: false };
  async function* stream(): AsyncGenerator<LogsPollResponse> {
    try {
      for (let i = 0; i < messages.length; i++) {
        seen.askedAt.push(seen.handedOut);
        await paced(paces(i));
        seen.handedOut += messages[i]!.entries.length;
        yield messages[i]!;
      }
      if (end !== undefined) throw end;
    } finally {
      seen.closed = true;
    }
  }
  return { stream: stream(), seen };
}

const limitsArb = fc.record({ entries: fc.integer({ min: 1, max: 40 }), bytes: fc.integer({ min: 40, max: 3000 }) });
const paceArb: fc.Arbitrary<Pace> = fc.oneof(
  fc.constant("ready" as const),
  fc.record({ turns: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ ms: fc.integer({ min: 0, max: 2 }) }),
);

describe("reading the log ahead of a projection", () => {
  it("hands on every entry exactly once, in order, in batches within both limits, reading at most two batches ahead", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 25 }),
        fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 8 }),
        fc.array(paceArb, { minLength: 1, maxLength: 6 }),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 5 }),
        limitsArb,
        fc.boolean(),
        fc.constantFrom(
          undefined,
          () => true,
          () => false,
        ),
        async (sizes, payloads, paces, work, bounds, fails, behind) => {
          const limits: ReadAheadLimits = { ...bounds, behind, lingerMs: 3 };
          const messages = messagesOf(sizes, (id) => payloads[id % payloads.length]!);
          const all = messages.flatMap((m) => m.entries);
          const largest = Math.max(0, ...sizes);
          const failure = new Error("stream broke");
          const { stream, seen } = source(messages, (i) => paces[i % paces.length]!, fails ? failure : undefined);
          const got: AppLogEntry[] = [];
          const batches: AppLogEntry[][] = [];
          let thrown: unknown;
          try {
            let i = 0;
            for await (const batch of readAhead(stream, limits)) {
              if (batch.entries.length > 0) batches.push(batch.entries);
              got.push(...batch.entries);
              // The caller applying its batch meanwhile: some turns of the event loop, or a timer.
              const turns = work[i++ % work.length]!;
              if (turns === 3) await new Promise((resolve) => setTimeout(resolve, 1));
              else for (let t = 0; t < turns; t++) await new Promise((resolve) => setImmediate(resolve));
            }
          } catch (error) {
            thrown = error;
          }
          expect(got.map((e) => e.id)).toEqual(all.map((e) => e.id));
          expect(thrown).toBe(fails ? failure : undefined);
          for (const batch of batches) {
            expect(batch.length).toBeLessThanOrEqual(limits.entries);
            const bytes = batch.reduce((n, e) => n + entryBytes(e), 0);
            if (batch.length > 1) expect(bytes).toBeLessThanOrEqual(limits.bytes);
          }
          // Bounded memory: a message is asked for only while fewer than two batches' worth wait unread.
          let handedOn = 0;
          const handedOnAt = batches.map((b) => (handedOn += b.length));
          for (const askedAt of seen.askedAt) {
            const before = handedOnAt.filter((n) => n <= askedAt).at(-1) ?? 0;
            expect(askedAt - before).toBeLessThan(2 * limits.entries + largest);
          }
          expect(seen.closed).toBe(true);
        },
      ),
    );
  });

  it("gathers a batch from as many messages as are ready", async () => {
    const { stream } = source(messagesOf(Array(100).fill(1)), () => "ready");
    const batches: number[] = [];
    for await (const batch of readAhead(stream, { entries: 10, bytes: 1 << 20 })) {
      batches.push(batch.entries.length);
      await new Promise((resolve) => setTimeout(resolve, 1)); // the batch's transaction
    }
    expect(batches).toEqual(Array(10).fill(10));
  });

  it("reads ahead while a batch is applied, two batches at most (or the byte limit)", async () => {
    const { stream, seen } = source(messagesOf(Array(100).fill(3)), () => "ready");
    const reading = readAhead(stream, { entries: 10, bytes: 1 << 20 });
    expect((await reading.next()).value?.entries).toHaveLength(10);
    await new Promise((resolve) => setTimeout(resolve, 20)); // the batch's transaction
    const ahead = seen.handedOut - 10;
    expect(ahead).toBeGreaterThanOrEqual(20);
    expect(ahead).toBeLessThan(20 + 3);
    await reading.return(undefined);

    const one = entryBytes(entry(1));
    const bytes = source(messagesOf(Array(100).fill(3)), () => "ready");
    const byBytes = readAhead(bytes.stream, { entries: 10, bytes: 12 * one });
    expect((await byBytes.next()).value?.entries).toHaveLength(10);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(bytes.seen.handedOut - 10).toBeLessThan(12 + 3);
    await byBytes.return(undefined);
  });

  it("cuts a batch at the byte limit, and hands on an entry larger than the limit alone", async () => {
    const sizes = [3, 3, 3];
    const payload = (id: number) => (id === 5 ? 500 : 20);
    const { stream } = source(messagesOf(sizes, payload), () => "ready");
    const limit = 3 * entryBytes(entry(1, 20));
    const batches: bigint[][] = [];
    for await (const batch of readAhead(stream, { entries: 100, bytes: limit })) {
      batches.push(batch.entries.map((e) => e.id));
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    expect(batches).toEqual([[1n, 2n, 3n], [4n], [5n], [6n, 7n, 8n], [9n]]);
  });

  it("does not hold back what came for a message still on its way", async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    async function* stream(): AsyncGenerator<LogsPollResponse> {
      yield message([entry(1), entry(2)]);
      await held;
      yield message([entry(3)]);
    }
    const reading = readAhead(stream(), { entries: 10, bytes: 1 << 20 });
    const first = await reading.next();
    expect(first.value?.entries.map((e: AppLogEntry) => e.id)).toEqual([1n, 2n]);
    release();
    const second = await reading.next();
    expect(second.value?.entries.map((e: AppLogEntry) => e.id)).toEqual([3n]);
    expect((await reading.next()).done).toBe(true);
  });

  it("while catching up, waits for the messages on their way to fill a batch, at most the linger", async () => {
    const slow = (behind: boolean, lingerMs: number) =>
      readAhead(source(messagesOf([2, 2, 2]), (i) => (i === 0 ? "ready" : { ms: 15 })).stream, {
        entries: 6,
        bytes: 1 << 20,
        behind: () => behind,
        lingerMs,
      });
    const sizes = async (reading: AsyncGenerator<LogsPollResponse>) => {
      const out: number[] = [];
      for await (const batch of reading) out.push(batch.entries.length);
      return out;
    };
    expect(await sizes(slow(true, 1000))).toEqual([6]);
    expect(await sizes(slow(false, 1000))).toEqual([2, 2, 2]);
    expect(await sizes(slow(true, 1))).toEqual([2, 2, 2]);
  });

  it("passes a heartbeat on when nothing is queued, so the caller's silence watchdog sees the stream alive", async () => {
    const { stream } = source([message([]), message([entry(1)]), message([])], () => ({ ms: 1 }));
    const seen: number[] = [];
    for await (const batch of readAhead(stream, { entries: 10, bytes: 1 << 20 })) seen.push(batch.entries.length);
    expect(seen).toEqual([0, 1, 0]);
  });

  it("stops reading when left, without waiting for a message that does not come", async () => {
    let closed = false;
    const never = new Promise<never>(() => {});
    async function* stream(): AsyncGenerator<LogsPollResponse> {
      try {
        yield message([entry(1)]);
        await never;
      } finally {
        closed = true;
      }
    }
    const messages = stream();
    for await (const batch of readAhead(messages, { entries: 10, bytes: 1 << 20 })) {
      expect(batch.entries.map((e) => e.id)).toEqual([1n]);
      break;
    }
    // The caller cancels its call after leaving; the pending read is not awaited by the leaving itself.
    expect(closed).toBe(false);
  });
});
