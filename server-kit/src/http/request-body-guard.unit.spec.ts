import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { HealthCheckRequestSchema } from "@eskit/gen/grpc/health/v1/health_pb.js";
import { describe, expect, it } from "vitest";
import { envelope } from "@eskit/test-kit/raw-rpc.js";
import { guardRequestBody, requestFraming, type RequestFraming } from "./request-body-guard.js";

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
