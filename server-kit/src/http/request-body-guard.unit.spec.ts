import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { HealthCheckRequestSchema } from "@eskit/gen/grpc/health/v1/health_pb.js";
import { describe, expect, it } from "vitest";
import { envelope } from "@eskit/test-kit/raw-rpc.js";
import { guardRequestBody, requestFraming, type RequestFraming } from "./request-body-guard.js";
import { MessageClock } from "./request-clock.js";

const valid = toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema, { service: "svc" }));
const grpc = requestFraming("application/grpc")!;

async function* chunksOf(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

async function pass(body: Uint8Array, framing: RequestFraming | undefined, size = 1): Promise<Buffer> {
  const out: Uint8Array[] = [];
  const guarded = guardRequestBody(chunksOf(body, size), {
    input: HealthCheckRequestSchema,
    framing,
    encoding: "",
    readMaxBytes: 1024,
    timeoutMs: 5000,
  });
  for await (const chunk of guarded) out.push(chunk);
  return Buffer.concat(out);
}

async function refusal(body: Uint8Array, framing: RequestFraming | undefined, size = 1): Promise<ConnectError> {
  const error = await pass(body, framing, size).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConnectError);
  return error as ConnectError;
}

describe("requestFraming", () => {
  it("knows the framing of each content type Connect serves, and leaves the rest to Connect", () => {
    expect(requestFraming("application/proto")).toEqual({
      enveloped: false,
      binary: true,
      encodingHeader: "content-encoding",
    });
    expect(requestFraming("application/grpc+proto")).toMatchObject({
      enveloped: true,
      binary: true,
      encodingHeader: "grpc-encoding",
    });
    expect(requestFraming("application/grpc-web")).toMatchObject({ enveloped: true, binary: true });
    expect(requestFraming("application/connect+json")).toMatchObject({
      enveloped: true,
      binary: false,
      encodingHeader: "connect-content-encoding",
    });
    for (const type of ["application/json", "application/connect", "application/grpc-web-text", "text/plain", null]) {
      expect(requestFraming(type), String(type)).toBeUndefined();
    }
  });
});

describe("guardRequestBody", () => {
  it("passes a valid message through unchanged, however the bytes are split", async () => {
    const body = Buffer.concat([envelope(0, valid), envelope(0, valid)]);
    for (const size of [1, 3, 7, body.length]) expect(await pass(body, grpc, size)).toEqual(body);
    expect(await pass(valid, requestFraming("application/proto"), 2)).toEqual(Buffer.from(valid));
  });

  it("refuses the envelope that is malformed before handing on the chunk that completes it", async () => {
    const body = Buffer.concat([envelope(0, valid), envelope(0, Uint8Array.from([0x0a, 0x05, 0x61]))]);
    const out: Uint8Array[] = [];
    const guarded = guardRequestBody(chunksOf(body, body.length - 1), {
      input: HealthCheckRequestSchema,
      framing: grpc,
      encoding: "",
      readMaxBytes: 1024,
      timeoutMs: 5000,
    });
    await expect(
      (async () => {
        for await (const chunk of guarded) out.push(chunk);
      })(),
    ).rejects.toMatchObject({ code: Code.InvalidArgument });
    expect(Buffer.concat(out).length).toBeLessThan(body.length);
  });

  it("leaves a message over the size limit to Connect (resource_exhausted from its prefix)", async () => {
    const big = envelope(0, new Uint8Array(2048).fill(0xff));
    expect(await pass(big, grpc, 100)).toEqual(big);
  });

  it("answers deadline_exceeded when the body stalls past timeoutMs", async () => {
    async function* stalled(): AsyncGenerator<Uint8Array> {
      yield Uint8Array.from([0]);
      await new Promise(() => {});
    }
    let unread = false;
    const guarded = guardRequestBody(stalled(), {
      input: HealthCheckRequestSchema,
      framing: grpc,
      encoding: "",
      readMaxBytes: 1024,
      timeoutMs: 50,
      onUnread: () => (unread = true),
    });
    await expect(
      (async () => {
        for await (const _ of guarded);
      })(),
    ).rejects.toMatchObject({ code: Code.DeadlineExceeded });
    expect(unread).toBe(true);
  });
});

describe("guardRequestBody with perMessage (a stream of requests)", () => {
  /** Envelopes of `valid`, each arriving `gapMs` after the server asked for it, cut in two halves `halfMs` apart. */
  async function* slowMessages(count: number, gapMs: number, halfMs = 0): AsyncGenerator<Uint8Array> {
    const message = envelope(0, valid);
    const half = Math.floor(message.length / 2);
    for (let i = 0; i < count; i++) {
      await new Promise((resolve) => setTimeout(resolve, gapMs));
      yield message.subarray(0, half);
      await new Promise((resolve) => setTimeout(resolve, halfMs));
      yield message.subarray(half);
    }
  }

  const guard = (body: AsyncIterable<Uint8Array>, perMessage: boolean) =>
    guardRequestBody(body, {
      input: HealthCheckRequestSchema,
      framing: grpc,
      encoding: "",
      readMaxBytes: 1024,
      timeoutMs: 100,
      perMessage,
    });

  const drained = async (chunks: AsyncIterable<Uint8Array>) => {
    let bytes = 0;
    for await (const chunk of chunks) bytes += chunk.byteLength;
    return bytes;
  };

  it("lets a stream last longer than timeoutMs when each message arrives in time", async () => {
    // Eight messages 40 ms apart: 320 ms in all, more than three times the timeout.
    expect(await drained(guard(slowMessages(8, 40), true))).toBe(8 * envelope(0, valid).length);
  });

  it("still bounds the whole body when the RPC takes a single request", async () => {
    await expect(drained(guard(slowMessages(8, 40), false))).rejects.toMatchObject({ code: Code.DeadlineExceeded });
  });

  it("cuts a stream whose next message does not come within timeoutMs", async () => {
    async function* thenIdle(): AsyncGenerator<Uint8Array> {
      yield* slowMessages(2, 10);
      await new Promise((resolve) => setTimeout(resolve, 300));
      yield envelope(0, valid);
    }
    const error = await drained(guard(thenIdle(), true)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: Code.DeadlineExceeded });
    expect((error as ConnectError).rawMessage).toBe("a request message did not arrive within 100 ms");
  });

  it("leaves the messages' protobuf to Connect's parser, but still refuses an envelope a request may not have", async () => {
    const malformed = Buffer.concat([envelope(0, valid), envelope(0, Uint8Array.from([0x0a, 0x05, 0x61]))]);
    expect(await drained(guard(chunksOf(malformed, 3), true))).toBe(malformed.length);
    const trailer = Buffer.concat([envelope(0, valid), envelope(0x80, valid)]);
    await expect(drained(guard(chunksOf(trailer, 3), true))).rejects.toMatchObject({ code: Code.InvalidArgument });
  });

  describe("with a clock the handler pauses while the server has the turn", () => {
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    /** One message, then a second `afterMs` after the server asked for it (a client waiting for an answer). */
    async function* secondAfter(afterMs: number): AsyncGenerator<Uint8Array> {
      yield envelope(0, valid);
      await sleep(afterMs);
      yield envelope(0, valid);
    }
    /**
     * Reads ahead as AppendStream does: asks for the next chunk at once, and pauses the clock for `busyMs` (writing
     * the first request) meanwhile. Resolves with the bytes read, or rejects as the guard does.
     */
    async function readAheadWhileBusy(body: AsyncIterable<Uint8Array>, busyMs: number): Promise<number> {
      const clock = new MessageClock(100);
      const it = guardRequestBody(body, {
        input: HealthCheckRequestSchema,
        framing: grpc,
        encoding: "",
        readMaxBytes: 1024,
        timeoutMs: 100,
        perMessage: true,
        clock,
      })[Symbol.asyncIterator]();
      let bytes = 0;
      const first = await it.next();
      bytes += first.done === true ? 0 : first.value.byteLength;
      const ahead = it.next();
      ahead.catch(() => {});
      const resume = clock.pause();
      await sleep(busyMs);
      resume();
      for (let next = await ahead; next.done !== true; next = await it.next()) bytes += next.value.byteLength;
      return bytes;
    }

    it("does not cut a stream while paused, however long the pause", async () => {
      // The write takes 300 ms, three times the timeout; the client sends 50 ms after it ended.
      expect(await readAheadWhileBusy(secondAfter(350), 300)).toBe(2 * envelope(0, valid).length);
    });

    it("gives the next message the whole timeout from the pause's end, and no more", async () => {
      // The client sends 200 ms after the pause ended: past the 100 ms it had.
      const error = await readAheadWhileBusy(secondAfter(500), 300).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ code: Code.DeadlineExceeded });
    });

    it("nests pauses: the clock runs again only once every pause has ended", async () => {
      const clock = new MessageClock(100);
      const expired = () => new ConnectError("late", Code.DeadlineExceeded);
      const outer = clock.pause();
      const inner = clock.pause();
      const race = clock.race(
        sleep(250).then(() => "arrived"),
        expired,
      );
      await sleep(100);
      outer();
      outer(); // A second call of the same resume does nothing.
      await sleep(100);
      inner();
      // Paused until 200 ms, so the message at 250 ms is in time; had the clock run from 100 ms, it would be late.
      await expect(race).resolves.toBe("arrived");
    });
  });

  it("cuts a message begun but not finished within timeoutMs", async () => {
    await expect(drained(guard(slowMessages(2, 10, 300), true))).rejects.toMatchObject({
      code: Code.DeadlineExceeded,
    });
  });
});
