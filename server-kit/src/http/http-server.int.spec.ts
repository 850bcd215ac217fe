import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import type { Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import {
  Health,
  HealthCheckResponse_ServingStatus as Status,
  HealthCheckRequestSchema,
} from "@eskit/gen/grpc/health/v1/health_pb.js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { silentLogger } from "../logger.js";
import { healthService } from "../health-service.js";
import { startHttpServer, type RunningHttpServer } from "./http-server.js";

const ALLOWED = "https://app.example";
const CHECK_PATH = "/grpc.health.v1.Health/Check";

let healthy: boolean;
let checkDelayMs: number;
let server: RunningHttpServer;
/** Told each time a health check starts (a call has reached the server's handler). */
let checkStarted: () => void = () => {};
/** Told each time a health check returns (its handler has finished). */
let checkReturned: () => void = () => {};

async function check(): Promise<boolean> {
  checkStarted();
  if (checkDelayMs > 0) await new Promise((r) => setTimeout(r, checkDelayMs));
  checkReturned();
  return healthy;
}

/** Resolves once the next health check has reached the handler. */
function nextCheck(): Promise<void> {
  return new Promise((resolve) => {
    checkStarted = () => {
      checkStarted = () => {};
      resolve();
    };
  });
}

beforeEach(async () => {
  healthy = true;
  checkDelayMs = 0;
  server = await startHttpServer({
    port: 0,
    host: "127.0.0.1",
    routes: (router) => {
      router.service(Health, healthService(check, { services: ["test.v1.Thing"], watchIntervalMs: 20 }));
    },
    corsOrigins: [ALLOWED],
    healthz: check,
    logger: silentLogger,
    extraHandlers: {
      "/metrics": (_req, res) => {
        res.writeHead(200, { "content-type": "text/plain" });
        res.end("up 1\n");
      },
    },
  });
});

afterEach(async () => {
  await server.close({ timeoutMs: 1000 });
});

interface H1Result {
  status: number;
  httpVersion: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function h1Request(
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<H1Result> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${server.url}${path}`, { method, headers, agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (text += d));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, httpVersion: res.httpVersion, headers: res.headers, body: text }),
      );
    });
    req.on("error", reject);
    req.end(body);
  });
}

function h2Request(
  session: http2.ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders,
  body?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers);
    let status = 0;
    let text = "";
    stream.setEncoding("utf8");
    stream.on("response", (h) => (status = Number(h[":status"])));
    stream.on("data", (d: string) => (text += d));
    stream.on("end", () => resolve({ status, body: text }));
    stream.on("error", reject);
    stream.end(body);
  });
}

async function checkVia(transport: Transport, service = ""): Promise<Status> {
  const res = await createClient(Health, transport).check({ service });
  return res.status;
}

describe("one port for every protocol", () => {
  it("answers a plain HTTP/1.1 Connect JSON POST (curl style)", async () => {
    const res = await h1Request("POST", CHECK_PATH, { "content-type": "application/json" }, "{}");
    expect(res.httpVersion).toBe("1.1");
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ status: "SERVING" });
  });

  it("answers HTTP/2 with prior knowledge", async () => {
    const session = http2.connect(server.url);
    try {
      const res = await h2Request(
        session,
        { ":method": "POST", ":path": CHECK_PATH, "content-type": "application/json" },
        '{"service":"test.v1.Thing"}',
      );
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toEqual({ status: "SERVING" });
    } finally {
      session.close();
    }
  });

  it("serves Connect clients over HTTP/1.1 (JSON and binary) and HTTP/2", async () => {
    healthy = false;
    const baseUrl = server.url;
    expect(await checkVia(createConnectTransport({ baseUrl, httpVersion: "1.1" }))).toBe(Status.NOT_SERVING);
    expect(await checkVia(createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: true }))).toBe(
      Status.NOT_SERVING,
    );
    expect(await checkVia(createConnectTransport({ baseUrl, httpVersion: "2" }))).toBe(Status.NOT_SERVING);
  });

  it("serves gRPC clients", async () => {
    const transport = createGrpcTransport({ baseUrl: server.url });
    expect(await checkVia(transport, "test.v1.Thing")).toBe(Status.SERVING);
    const err = await checkVia(transport, "no.such.Service").catch((e: unknown) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.NotFound);
  });

  it("serves gRPC-Web clients over HTTP/1.1", async () => {
    const transport = createGrpcWebTransport({ baseUrl: server.url, httpVersion: "1.1" });
    expect(await checkVia(transport)).toBe(Status.SERVING);
  });

  it("handles an HTTP/1.1 request whose first bytes arrive in separate packets", async () => {
    const socket = net.connect(server.port, "127.0.0.1");
    socket.setNoDelay(true);
    let reply = "";
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => (reply += d));
    const closed = new Promise((r) => socket.on("close", r));
    // "P" is also how the HTTP/2 preface starts, so the sniffer must wait for more.
    const parts = [
      "P",
      "O",
      `ST ${CHECK_PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n`,
      "Content-Length: 2\r\nConnection: close\r\n\r\n{}",
    ];
    for (const part of parts) {
      socket.write(part);
      await new Promise((r) => setTimeout(r, 20));
    }
    await closed;
    expect(reply.startsWith("HTTP/1.1 200 OK\r\n")).toBe(true);
    expect(reply.endsWith('{"status":"SERVING"}')).toBe(true);
  });

  it("answers unknown paths with 404 and serves extra GET handlers", async () => {
    expect((await h1Request("GET", "/nope")).status).toBe(404);
    expect((await h1Request("POST", "/no.Such/Method", { "content-type": "application/json" }, "{}")).status).toBe(404);
    const metrics = await h1Request("GET", "/metrics?x=1");
    expect(metrics.status).toBe(200);
    expect(metrics.body).toBe("up 1\n");
  });
});

describe("startHttpServer", () => {
  it("rejects when the port is taken", async () => {
    const clash = startHttpServer({
      port: server.port,
      host: "127.0.0.1",
      routes: () => {},
      corsOrigins: ["*"],
      healthz: check,
      logger: silentLogger,
    });
    await expect(clash).rejects.toMatchObject({ code: "EADDRINUSE" });
  });

  it("reports a URL clients can dial for a wildcard host", async () => {
    const any = await startHttpServer({
      port: 0,
      host: "0.0.0.0",
      routes: () => {},
      corsOrigins: ["*"],
      healthz: check,
      logger: silentLogger,
    });
    try {
      expect(any.url).toBe(`http://127.0.0.1:${any.port}`);
      expect((await fetch(`${any.url}/healthz`)).status).toBe(200);
    } finally {
      await any.close();
    }
  });
});

describe("limits", () => {
  it("rejects a request message larger than readMaxBytes with resource_exhausted", async () => {
    const small = await startHttpServer({
      port: 0,
      host: "127.0.0.1",
      routes: (router) => {
        router.service(Health, healthService(check, { services: [] }));
      },
      corsOrigins: ["*"],
      healthz: check,
      readMaxBytes: 64,
      logger: silentLogger,
    });
    try {
      const transport = createGrpcTransport({ baseUrl: small.url });
      const err = await checkVia(transport, "x".repeat(100)).catch((e: unknown) => ConnectError.from(e));
      expect((err as ConnectError).code).toBe(Code.ResourceExhausted);
      const okErr = await checkVia(transport, "y".repeat(40)).catch((e: unknown) => ConnectError.from(e));
      expect((okErr as ConnectError).code).toBe(Code.NotFound);
    } finally {
      await small.close();
    }
  });
});

describe("/healthz", () => {
  it("is 200 ok while the check passes and 503 when it fails, over HTTP/1.1", async () => {
    const ok = await h1Request("GET", "/healthz");
    expect(ok.status).toBe(200);
    expect(ok.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(ok.body)).toEqual({ status: "ok" });
    healthy = false;
    const bad = await h1Request("GET", "/healthz");
    expect(bad.status).toBe(503);
    expect(JSON.parse(bad.body)).toEqual({ status: "unavailable" });
  });

  it("works over HTTP/2", async () => {
    const session = http2.connect(server.url);
    try {
      expect(await h2Request(session, { ":path": "/healthz" })).toEqual({ status: 200, body: '{"status":"ok"}' });
      healthy = false;
      expect(await h2Request(session, { ":path": "/healthz" })).toEqual({
        status: 503,
        body: '{"status":"unavailable"}',
      });
    } finally {
      session.close();
    }
  });

  it("is 503 when the check does not answer within 2 s", async () => {
    checkDelayMs = 5000;
    const started = Date.now();
    const res = await h1Request("GET", "/healthz");
    expect(res.status).toBe(503);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    expect(Date.now() - started).toBeLessThan(3000);
    checkDelayMs = 0;
  });
});

describe("CORS", () => {
  const preflight = (origin: string) =>
    h1Request("OPTIONS", CHECK_PATH, {
      origin,
      "access-control-request-method": "POST",
      "access-control-request-headers": "content-type,connect-protocol-version",
    });

  it("answers a preflight from an allowed origin with what Connect and gRPC-Web need", async () => {
    const res = await preflight(ALLOWED);
    expect(res.status).toBe(204);
    expect(res.headers["access-control-allow-origin"]).toBe(ALLOWED);
    expect(res.headers["access-control-allow-methods"]).toBe("POST, GET");
    const allowed = String(res.headers["access-control-allow-headers"]).split(", ");
    expect(allowed).toEqual(
      expect.arrayContaining(["Content-Type", "Connect-Protocol-Version", "X-Grpc-Web", "Grpc-Timeout"]),
    );
    expect(res.headers["access-control-max-age"]).toBe("7200");
  });

  it("gives a disallowed origin no CORS headers", async () => {
    const res = await preflight("https://evil.example");
    expect(res.status).toBe(204);
    expect(res.headers["access-control-allow-origin"]).toBeUndefined();
    expect(res.headers["access-control-allow-methods"]).toBeUndefined();
    const actual = await h1Request(
      "POST",
      CHECK_PATH,
      { origin: "https://evil.example", "content-type": "application/json" },
      "{}",
    );
    expect(actual.headers["access-control-allow-origin"]).toBeUndefined();
  });

  it("exposes the gRPC status headers on actual responses to an allowed origin", async () => {
    const res = await h1Request("POST", CHECK_PATH, { origin: ALLOWED, "content-type": "application/json" }, "{}");
    expect(res.status).toBe(200);
    expect(res.headers["access-control-allow-origin"]).toBe(ALLOWED);
    expect(String(res.headers["access-control-expose-headers"]).split(", ")).toEqual(
      expect.arrayContaining(["Grpc-Status", "Grpc-Message", "Grpc-Status-Details-Bin"]),
    );
  });
});

describe("Watch streams", () => {
  it("push status changes and stop when the client aborts", async () => {
    const client = createClient(Health, createGrpcTransport({ baseUrl: server.url }));
    const abort = new AbortController();
    const seen: Status[] = [];
    const done = (async () => {
      for await (const res of client.watch({ service: "" }, { signal: abort.signal })) {
        seen.push(res.status);
        if (seen.length === 1) healthy = false;
        if (seen.length === 2) abort.abort();
      }
    })().catch((e: unknown) => ConnectError.from(e));
    const err = await done;
    expect(seen).toEqual([Status.SERVING, Status.NOT_SERVING]);
    expect((err as ConnectError).code).toBe(Code.Canceled);
  });
});

describe("close()", () => {
  /** Open a Watch, wait for its first message, and report how the rest of it ends. */
  async function openWatch(transport: Transport): Promise<{ ended: Promise<Code | "ended without error"> }> {
    const watch = createClient(Health, transport).watch(create(HealthCheckRequestSchema, { service: "" }));
    const it = watch[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.value?.status).toBe(Status.SERVING);
    // Wrapped in an object: an async function returning a bare promise would wait for it.
    const ended = (async () => {
      while (!(await it.next()).done);
    })().then(
      () => "ended without error" as const,
      (e: unknown) => ConnectError.from(e).code,
    );
    return { ended };
  }

  it("ends open streams of every protocol with unavailable and cuts idle clients quickly", async () => {
    const baseUrl = server.url;
    const grpcEnd = await openWatch(createGrpcTransport({ baseUrl }));
    const connectH1End = await openWatch(createConnectTransport({ baseUrl, httpVersion: "1.1" }));
    const grpcWebH1End = await openWatch(createGrpcWebTransport({ baseUrl, httpVersion: "1.1" }));

    const idleH2 = http2.connect(baseUrl);
    await h2Request(idleH2, { ":path": "/healthz" });
    const idleH2Closed = new Promise((r) => idleH2.on("close", r));
    const agent = new http.Agent({ keepAlive: true });
    const idleH1 = await new Promise<{ closed: Promise<unknown> }>((resolve) =>
      http.get(`${baseUrl}/healthz`, { agent }, (res) => {
        const closed = new Promise((r) => res.socket.on("close", r));
        res.resume().on("end", () => resolve({ closed }));
      }),
    );

    const started = Date.now();
    await server.close({ timeoutMs: 8000 });
    const elapsed = Date.now() - started;

    expect(elapsed).toBeLessThan(1500);
    expect(await grpcEnd.ended).toBe(Code.Unavailable);
    expect(await connectH1End.ended).toBe(Code.Unavailable);
    expect(await grpcWebH1End.ended).toBe(Code.Unavailable);
    await Promise.all([idleH2Closed, idleH1.closed]);
    expect(idleH2.closed).toBe(true);
    agent.destroy();
    await expect(h1Request("GET", "/healthz")).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });

  it("lets an in-flight unary call finish before closing", async () => {
    checkDelayMs = 300;
    const order: string[] = [];
    checkReturned = () => order.push("handler returned");
    try {
      const started = nextCheck();
      const call = checkVia(createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }));
      // In flight: its handler runs (a fixed wait may not be enough for the call to arrive on a loaded machine).
      await started;
      await server.close({ timeoutMs: 5000 });
      order.push("closed");
      expect(await call).toBe(Status.SERVING);
      // close() waited for the handler, however long this machine took to run it.
      expect(order).toEqual(["handler returned", "closed"]);
    } finally {
      checkReturned = () => {};
    }
  });

  it("answers unavailable to a call that outlives the timeout", async () => {
    checkDelayMs = 10_000;
    const started = nextCheck();
    const call = checkVia(createGrpcTransport({ baseUrl: server.url })).catch((e: unknown) => ConnectError.from(e));
    // In flight: its handler runs (a fixed wait may not be enough for the call to arrive on a loaded machine).
    await started;
    const closing = Date.now();
    await server.close({ timeoutMs: 200 });
    expect(Date.now() - closing).toBeLessThan(1000);
    const err = await call;
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.Unavailable);
    expect((err as ConnectError).rawMessage).toBe("server is shutting down");
  });

  it("cuts a stream that ignores its signal once the timeout passes", async () => {
    /** Set when the handler's 10 s wait is over: a close that waited for it did not cut the stream. */
    let handlerReturned = false;
    const stubborn = await startHttpServer({
      port: 0,
      host: "127.0.0.1",
      routes: (router) => {
        router.service(Health, {
          async *watch() {
            yield { status: Status.SERVING };
            await new Promise((r) => setTimeout(r, 10_000).unref());
            handlerReturned = true;
          },
        });
      },
      corsOrigins: ["*"],
      healthz: check,
      logger: silentLogger,
    });
    const watch = createClient(Health, createGrpcTransport({ baseUrl: stubborn.url })).watch({ service: "" });
    let firstMessage: () => void = () => {};
    const open = new Promise<void>((resolve) => (firstMessage = resolve));
    const outcome = (async () => {
      const seen: Status[] = [];
      for await (const res of watch) {
        seen.push(res.status);
        firstMessage();
      }
      return seen;
    })().catch((e: unknown) => ConnectError.from(e).code);
    // The stream is open and its handler waits (its first message came), however long that took on this machine.
    await Promise.race([open, outcome]);
    const started = Date.now();
    await stubborn.close({ timeoutMs: 300 });
    const elapsed = Date.now() - started;
    // Not cut before the timeout (timers never fire early)...
    expect(elapsed).toBeGreaterThanOrEqual(290);
    // ...but cut while the handler still waited: a close that waits for the handler resolves only after its 10 s.
    expect(handlerReturned).toBe(false);
    // A sanity bound far below those 10 s.
    expect(elapsed).toBeLessThan(5000);
    expect(await outcome).toBe(Code.Canceled);
  });
});
