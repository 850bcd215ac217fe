import { Writable } from "node:stream";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import type { HandlerContext } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus as Status } from "@eskit/gen/grpc/health/v1/health_pb.js";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createLogger } from "./logger.js";
import { startHttpServer, type RunningHttpServer } from "./http/http-server.js";
import { loggingInterceptor, protocolOf } from "./logging-interceptor.js";

let lines: Array<Record<string, unknown>>;
let server: RunningHttpServer;

/** Resolve once the signal fires, so a test stream stays open until canceled. */
function aborted(ctx: HandlerContext): Promise<never> {
  return new Promise((_, reject) => {
    if (ctx.signal.aborted) reject(ctx.signal.reason);
    ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason), { once: true });
  });
}

/** The level of the interceptor's logger in the next server started. */
let level: "debug" | "info" = "debug";

beforeEach(async () => {
  lines = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString("utf8")) as Record<string, unknown>);
      done();
    },
  });
  const logger = createLogger({ level, destination });
  server = await startHttpServer({
    port: 0,
    host: "127.0.0.1",
    routes: (router) => {
      router.service(Health, {
        async check(req) {
          if (req.service === "secret-payload") throw new ConnectError("nope", Code.NotFound);
          if (req.service === "boom") throw new Error("handler bug");
          if (req.service === "slow") await new Promise((resolve) => setTimeout(resolve, 80));
          return { status: Status.SERVING };
        },
        async *watch(_req, ctx) {
          yield { status: Status.SERVING };
          await aborted(ctx);
        },
      });
    },
    interceptors: [loggingInterceptor(logger, { slowCallMs: 50 })],
    corsOrigins: ["*"],
    healthz: async () => true,
    logger: createLogger({ level: "error", destination }),
  });
});

afterEach(async () => {
  await server.close({ timeoutMs: 1000 });
});

const rpcLines = () => lines.filter((l) => l.msg === "rpc");

async function waitForRpcLines(n: number): Promise<Array<Record<string, unknown>>> {
  for (let i = 0; i < 100 && rpcLines().length < n; i++) await new Promise((r) => setTimeout(r, 10));
  return rpcLines();
}

describe("loggingInterceptor", () => {
  it("logs one line per unary call with method, code, protocol and duration", async () => {
    const client = createClient(Health, createGrpcTransport({ baseUrl: server.url }));
    await client.check({ service: "" });
    const [line, ...more] = await waitForRpcLines(1);
    expect(more).toEqual([]);
    expect(Object.keys(line ?? {}).sort()).toEqual([
      "code",
      "duration_ms",
      "level",
      "method",
      "msg",
      "protocol",
      "time",
    ]);
    // A call that went well is a debug line: at info, a busy server's log shows only what an operator must see.
    expect(line).toMatchObject({ level: "debug", method: "grpc.health.v1.Health/Check", code: "ok", protocol: "grpc" });
    expect(typeof line?.duration_ms).toBe("number");
    expect(line?.duration_ms).toBeGreaterThanOrEqual(0);
  });

  it("logs a unary call slower than slowCallMs at info, marked slow", async () => {
    const client = createClient(Health, createGrpcTransport({ baseUrl: server.url }));
    await client.check({ service: "slow" });
    const [line] = await waitForRpcLines(1);
    expect(line).toMatchObject({ level: "info", code: "ok", slow: true });
    expect(line?.duration_ms).toBeGreaterThanOrEqual(50);
  });

  it("logs the error code in snake case and never the payload", async () => {
    const client = createClient(Health, createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }));
    await expect(client.check({ service: "secret-payload" })).rejects.toMatchObject({ code: Code.NotFound });
    const [line] = await waitForRpcLines(1);
    expect(line).toMatchObject({ method: "grpc.health.v1.Health/Check", code: "not_found", protocol: "connect" });
    expect(JSON.stringify(lines)).not.toContain("secret-payload");
  });

  it("logs unexpected errors as internal at error level", async () => {
    const client = createClient(Health, createGrpcWebTransport({ baseUrl: server.url, httpVersion: "1.1" }));
    await expect(client.check({ service: "boom" })).rejects.toMatchObject({ code: Code.Internal });
    const [line] = await waitForRpcLines(1);
    expect(line).toMatchObject({ level: "error", code: "internal", protocol: "grpc_web", error: "Error: handler bug" });
    // Once, with where it was raised: the stack of the handler's error, not of the ConnectError wrapping it.
    expect(line?.stack).toMatch(/^Error: handler bug\n\s+at /u);
  });

  it("logs a server stream once, when the client cancels it", async () => {
    const client = createClient(Health, createGrpcTransport({ baseUrl: server.url }));
    const abort = new AbortController();
    const it = client.watch({ service: "" }, { signal: abort.signal })[Symbol.asyncIterator]();
    expect((await it.next()).value?.status).toBe(Status.SERVING);
    await new Promise((r) => setTimeout(r, 50));
    expect(rpcLines()).toEqual([]);
    abort.abort();
    await expect(it.next()).rejects.toMatchObject({ code: Code.Canceled });
    const [line, ...more] = await waitForRpcLines(1);
    expect(line).toMatchObject({
      method: "grpc.health.v1.Health/Watch",
      code: "canceled",
      stream: true,
      protocol: "grpc",
    });
    expect(line?.duration_ms).toBeGreaterThanOrEqual(50);
    await new Promise((r) => setTimeout(r, 50));
    expect(more).toEqual([]);
    expect(rpcLines()).toHaveLength(1);
  });

  it("logs a server stream ended by shutdown as unavailable", async () => {
    const client = createClient(Health, createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }));
    const it = client.watch({ service: "" })[Symbol.asyncIterator]();
    await it.next();
    await server.close({ timeoutMs: 1000 });
    await expect(it.next()).rejects.toMatchObject({ code: Code.Unavailable });
    const [line] = await waitForRpcLines(1);
    expect(line).toMatchObject({ code: "unavailable", stream: true, protocol: "connect" });
  });
});

describe("protocolOf", () => {
  it("tells the protocol from the content type", () => {
    expect(protocolOf("application/grpc+proto")).toBe("grpc");
    expect(protocolOf("application/grpc")).toBe("grpc");
    expect(protocolOf("application/grpc-web+proto")).toBe("grpc_web");
    expect(protocolOf("application/grpc-web-text")).toBe("grpc_web");
    expect(protocolOf("application/connect+json")).toBe("connect");
    expect(protocolOf("application/json")).toBe("connect");
    expect(protocolOf(null)).toBe("connect");
  });
});

describe("loggingInterceptor at info", () => {
  beforeAll(() => {
    level = "info";
  });
  afterAll(() => {
    level = "debug";
  });

  it("writes no line for calls that went well, one for a slow call and one for a refused one", async () => {
    const client = createClient(Health, createGrpcTransport({ baseUrl: server.url }));
    for (let i = 0; i < 5; i++) await client.check({ service: "" });
    await client.check({ service: "slow" });
    await expect(client.check({ service: "secret-payload" })).rejects.toMatchObject({ code: Code.NotFound });
    const logged = await waitForRpcLines(2);
    await new Promise((r) => setTimeout(r, 50));
    expect(rpcLines().map((l) => [l.level, l.code, l.slow])).toEqual([
      ["info", "ok", true],
      ["info", "not_found", undefined],
    ]);
    expect(logged).toHaveLength(2);
  });
});
