import * as http from "node:http";
import * as http2 from "node:http2";
import { Writable } from "node:stream";
import { gzipSync } from "node:zlib";
import { toBinary, create } from "@bufbuild/protobuf";
import {
  Health,
  HealthCheckRequestSchema,
  HealthCheckResponse_ServingStatus as Status,
} from "@eskit/gen/grpc/health/v1/health_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../logger.js";
import { envelope, rawCall, type RawProtocol } from "@eskit/test-kit/raw-rpc.js";
import { startHttpServer, type RunningHttpServer } from "./http-server.js";

// A real server (Health stands in for any service) fed bytes no typed client sends, over every wire format. Before
// the request body guard, each malformed message here was answered `internal` and the slow bodies were never cut.

const readMaxBytes = 1024 * 1024;
const bodyTimeoutMs = 1000;
const logLines: Array<{ level: string; msg: string; code?: string }> = [];
let server: RunningHttpServer;

beforeAll(async () => {
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n")) if (line !== "") logLines.push(JSON.parse(line));
      done();
    },
  });
  const logger = createLogger({ level: "debug", destination });
  server = await startHttpServer({
    port: 0,
    host: "127.0.0.1",
    routes: (router) =>
      router.service(Health, {
        check: () => ({ status: Status.SERVING }),
        async *watch(_req, ctx) {
          yield { status: Status.SERVING };
          await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
        },
      }),
    corsOrigins: ["*"],
    healthz: async () => true,
    logger,
    readMaxBytes,
    limits: { requestBodyTimeoutMs: bodyTimeoutMs, headersTimeoutMs: 1000 },
  });
});
afterAll(async () => {
  await server.close({ timeoutMs: 1000 });
});

const check = "/grpc.health.v1.Health/Check";
const valid = toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema, { service: "x" }));
const malformed: Record<string, Uint8Array> = {
  garbage: Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff]),
  "a wrong wire type (a string sent as a varint)": Uint8Array.from([0x08, 0x96, 0x01]),
  "a string longer than the message": Uint8Array.from([0x0a, 0x05, 0x61]),
  "invalid UTF-8 in a string": Uint8Array.from([0x0a, 0x02, 0xc3, 0x28]),
  "JSON sent as binary": Buffer.from('{"service":"x"}'),
};
const binaryProtocols: RawProtocol[] = ["connect-proto", "grpc-web", "grpc"];
const framed = (protocol: RawProtocol, data: Uint8Array) => (protocol === "connect-proto" ? data : envelope(0, data));

describe.each(binaryProtocols)("a malformed request message over %s", (protocol) => {
  it.each(Object.entries(malformed))("is invalid_argument when it is %s, logged at info", async (_name, data) => {
    const before = logLines.length;
    const answer = await rawCall(server.url, check, { protocol, body: framed(protocol, data) });
    expect(answer.code).toBe("invalid_argument");
    expect(answer.message).toMatch(/^the request is not a valid grpc\.health\.v1\.HealthCheckRequest: /);
    const lines = logLines.slice(before);
    expect(lines.filter((line) => line.level === "error")).toEqual([]);
    expect(lines).toContainEqual(expect.objectContaining({ level: "info", msg: "rpc", code: "invalid_argument" }));
  });

  it("still serves a valid message", async () => {
    expect((await rawCall(server.url, check, { protocol, body: framed(protocol, valid) })).code).toBe("ok");
  });
});

describe.each(["grpc-web", "grpc"] as const)("request envelopes over %s", (protocol) => {
  it("refuses the trailer flag 0x80 in a request with invalid_argument", async () => {
    const answer = await rawCall(server.url, check, { protocol, body: envelope(0x80, valid) });
    expect(answer).toMatchObject({ code: "invalid_argument" });
    expect(answer.message).toBe("protocol error: a request message has flags 0x80: only 0x01 (compressed) is allowed");
  });

  it("refuses the compressed flag without grpc-encoding with invalid_argument", async () => {
    const answer = await rawCall(server.url, check, { protocol, body: envelope(0x01, valid) });
    expect(answer.code).toBe("invalid_argument");
    expect(answer.message).toMatch(/compressed \(flag 0x01\) but the request names no grpc-encoding/);
  });

  it("accepts a gzip-compressed message, refuses a malformed one inside gzip, and leaves bad gzip to Connect", async () => {
    const headers = { "grpc-encoding": "gzip" };
    const ok = await rawCall(server.url, check, { protocol, headers, body: envelope(0x01, gzipSync(valid)) });
    expect(ok.code).toBe("ok");
    const inside = await rawCall(server.url, check, {
      protocol,
      headers,
      body: envelope(0x01, gzipSync(malformed["garbage"]!)),
    });
    expect(inside.code).toBe("invalid_argument");
    const badGzip = await rawCall(server.url, check, { protocol, headers, body: envelope(0x01, valid) });
    expect(badGzip.code).toBe("invalid_argument");
  });
});

describe("a request message above the size limit over gRPC (HTTP/2)", () => {
  it("is resource_exhausted and leaves the connection usable", async () => {
    const session = http2.connect(server.url, { maxSessionMemory: 64 });
    try {
      const big = await rawCall(server.url, check, {
        protocol: "grpc",
        session,
        body: envelope(0, Buffer.alloc(8 * readMaxBytes)),
      });
      expect(big.code).toBe("resource_exhausted");
      const next = await rawCall(server.url, check, { protocol: "grpc", session, body: envelope(0, valid) });
      expect(next.code).toBe("ok");
    } finally {
      session.close();
    }
  });
});

describe("a request body sent too slowly", () => {
  it("is cut off over HTTP/1.1 with deadline_exceeded at ESKIT_REQUEST_BODY_TIMEOUT_MS", async () => {
    const started = performance.now();
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(`${server.url}${check}`, {
        method: "POST",
        headers: { "content-type": "application/json", "content-length": "100" },
      });
      req.on("response", (res) => {
        let body = "";
        res.on("data", (chunk: Buffer) => (body += chunk.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on("error", reject);
      req.write('{"serv');
    });
    const elapsed = performance.now() - started;
    expect(answer.status).toBe(504);
    expect(JSON.parse(answer.body)).toEqual({
      code: "deadline_exceeded",
      message: `the request body did not arrive within ${bodyTimeoutMs} ms`,
    });
    expect(elapsed).toBeGreaterThanOrEqual(bodyTimeoutMs - 10);
    expect(elapsed).toBeLessThan(bodyTimeoutMs + 1500);
  });

  it("is cut off over HTTP/2 with deadline_exceeded, the session still usable", async () => {
    const session = http2.connect(server.url);
    try {
      const started = performance.now();
      const answer = await new Promise<string>((resolve) => {
        const stream = session.request({
          ":method": "POST",
          ":path": check,
          "content-type": "application/grpc",
          te: "trailers",
        });
        let status = "";
        stream.on("response", (headers) => (status = String(headers["grpc-status"] ?? "")));
        stream.on("trailers", (trailers) => (status = String(trailers["grpc-status"])));
        stream.on("data", () => {});
        stream.on("error", () => {});
        stream.on("close", () => resolve(status));
        stream.write(envelope(0, valid).subarray(0, 3));
      });
      expect(answer).toBe("4");
      expect(performance.now() - started).toBeLessThan(bodyTimeoutMs + 1500);
      expect((await rawCall(server.url, check, { protocol: "grpc", session, body: envelope(0, valid) })).code).toBe(
        "ok",
      );
    } finally {
      session.close();
    }
  });

  it("does not cut a server stream whose request ended, however long it stays open", async () => {
    const session = http2.connect(server.url);
    try {
      const stream = session.request({
        ":method": "POST",
        ":path": "/grpc.health.v1.Health/Watch",
        "content-type": "application/grpc",
        te: "trailers",
      });
      let closed = false;
      stream.on("close", () => (closed = true));
      stream.on("data", () => {});
      stream.end(envelope(0, valid));
      await new Promise((resolve) => setTimeout(resolve, bodyTimeoutMs * 2));
      expect(closed).toBe(false);
      stream.close(http2.constants.NGHTTP2_CANCEL);
    } finally {
      session.close();
    }
  });
});
