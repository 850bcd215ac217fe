import * as http from "node:http";
import { Writable } from "node:stream";
import { create } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  createClient,
  type Client,
  type HandlerContext,
  type Transport,
} from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { AppLogEntrySchema } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import { EventStoreService } from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
import { Health, HealthCheckResponse_ServingStatus as Status } from "@eskit/gen/grpc/health/v1/health_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHttpServer, type RunningHttpServer } from "../http/http-server.js";
import { createLogger } from "../logger.js";
import { loggingInterceptor } from "../logging-interceptor.js";
import { createMetricsRegistry } from "../metrics/registry.js";
import type { AuthConfig } from "./auth-config.js";
import { classify } from "./rpc-access.js";

// A real server with access control, called over gRPC, gRPC-Web and Connect: the Event Store's service descriptor
// with a stand-in implementation (GetHead a read, Append a write, LogsPoll a streamed read), and the open health
// service.

const full = "full-token-0123456789abcdef";
const read = "read-token-0123456789abcdef";
const wrong = "wrong-token-0123456789abcdef";

let logText = "";
const servers: RunningHttpServer[] = [];

function routes(router: Parameters<Parameters<typeof startHttpServer>[0]["routes"]>[0]): void {
  router.service(EventStoreService, {
    getHead: () => ({ headId: 7n }),
    append: (req) => ({ logIds: req.events.map((_, i) => BigInt(i + 1)) }),
    async *logsPoll(req, ctx: HandlerContext) {
      yield { entries: [create(AppLogEntrySchema, { id: req.fromId })] };
      await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
    },
  });
  router.service(Health, { check: () => ({ status: Status.SERVING }) });
}

/** The stand-in's access table, as a service hands its own to the server. */
const access = new Map([
  classify(EventStoreService, {
    append: "write",
    appendStream: "write",
    saveSnapshot: "write",
    getEvents: "read",
    batchGetEvents: "read",
    logs: "read",
    logsPoll: "read",
    getHead: "read",
    listOriginators: "read",
    getSnapshot: "read",
  }),
]);

async function start(auth: AuthConfig | undefined): Promise<RunningHttpServer> {
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logText += chunk.toString("utf8");
      done();
    },
  });
  const logger = createLogger({ level: "debug", destination });
  const server = await startHttpServer({
    port: 0,
    host: "127.0.0.1",
    routes,
    access,
    interceptors: [loggingInterceptor(logger)],
    corsOrigins: ["*"],
    healthz: async () => true,
    logger,
    metrics: createMetricsRegistry(),
    ...(auth === undefined ? {} : { auth }),
  });
  servers.push(server);
  return server;
}

let protectedServer: RunningHttpServer;
beforeAll(async () => {
  protectedServer = await start({ authTokens: [full], readTokens: [read], metricsAuth: "token" });
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close({ timeoutMs: 1000 })));
});

const transports = {
  connect: (baseUrl: string): Transport => createConnectTransport({ baseUrl, httpVersion: "1.1" }),
  grpc: (baseUrl: string): Transport => createGrpcTransport({ baseUrl }),
  "grpc-web": (baseUrl: string): Transport => createGrpcWebTransport({ baseUrl, httpVersion: "1.1" }),
};

async function rejection(call: Promise<unknown>): Promise<{ code: Code; message: string }> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConnectError);
  return { code: (error as ConnectError).code, message: (error as ConnectError).rawMessage };
}

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
const appendRequest = { events: [{ originator: { id: "a", version: 1n }, eventType: "A.B", payload: "{}" }] };

/** The first message of a LogsPoll stream, then the stream is canceled. */
async function firstPolled(client: Client<typeof EventStoreService>, headers: Record<string, string>): Promise<bigint> {
  const stop = new AbortController();
  try {
    for await (const response of client.logsPoll({ fromId: 5n }, { headers, signal: stop.signal })) {
      return response.entries[0]!.id;
    }
    throw new Error("the stream ended without a message");
  } finally {
    stop.abort();
  }
}

describe.each(Object.keys(transports) as Array<keyof typeof transports>)("access control over %s", (protocol) => {
  let events: Client<typeof EventStoreService>;
  let health: Client<typeof Health>;
  beforeAll(() => {
    const transport = transports[protocol](protectedServer.url);
    events = createClient(EventStoreService, transport);
    health = createClient(Health, transport);
  });

  it("refuses every protected RPC without a token with unauthenticated", async () => {
    const expected = {
      code: Code.Unauthenticated,
      message: "this server needs a token: send the header Authorization: Bearer <token>",
    };
    expect(await rejection(events.getHead({}))).toEqual(expected);
    expect(await rejection(events.append(appendRequest))).toEqual(expected);
    expect(await rejection(firstPolled(events, {}))).toEqual(expected);
  });

  it("refuses an unknown or malformed token with unauthenticated, without repeating it", async () => {
    const unknown = await rejection(events.getHead({}, bearer(wrong)));
    expect(unknown).toEqual({ code: Code.Unauthenticated, message: "the bearer token is not valid here" });
    expect(await rejection(events.getHead({}, bearer(`${full}x`)))).toEqual(unknown);
    expect(await rejection(events.getHead({}, { headers: { authorization: full } }))).toEqual({
      code: Code.Unauthenticated,
      message: "the Authorization header must be Bearer <token>",
    });
    expect(
      await rejection(events.getHead({}, { headers: { authorization: `Basic ${btoa(`u:${full}`)}` } })),
    ).toMatchObject({
      code: Code.Unauthenticated,
    });
  });

  it("lets a read token read, streams included, and refuses its writes with permission_denied", async () => {
    expect((await events.getHead({}, bearer(read))).headId).toBe(7n);
    expect(await firstPolled(events, bearer(read).headers)).toBe(5n);
    expect(await rejection(events.append(appendRequest, bearer(read)))).toEqual({
      code: Code.PermissionDenied,
      message:
        "eskit.eventstore.v1.EventStoreService/Append changes data: it needs a full token, and this one may only read",
    });
  });

  it("lets a full token call everything", async () => {
    expect((await events.append(appendRequest, bearer(full))).logIds).toEqual([1n]);
    expect((await events.getHead({}, bearer(full))).headId).toBe(7n);
    expect(await firstPolled(events, bearer(full).headers)).toBe(5n);
  });

  it("leaves the health service open", async () => {
    expect((await health.check({})).status).toBe(Status.SERVING);
    expect((await health.check({}, bearer(wrong))).status).toBe(Status.SERVING);
  });
});

describe("access control over plain HTTP", () => {
  it("leaves /healthz open", async () => {
    const response = await fetch(`${protectedServer.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
  });

  it("answers a Connect JSON call without a token with 401 and the error as JSON", async () => {
    const response = await fetch(`${protectedServer.url}/eskit.eventstore.v1.EventStoreService/GetHead`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${wrong}` },
      body: "{}",
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ code: "unauthenticated", message: "the bearer token is not valid here" });
  });

  it("protects /metrics with ESKIT_METRICS_AUTH=token: 401 and WWW-Authenticate without a valid token", async () => {
    const url = `${protectedServer.url}/metrics`;
    const none = await fetch(url);
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toBe('Bearer realm="eskit"');
    expect(await none.json()).toEqual({ error: "a bearer token is required" });
    const bad = await fetch(url, { headers: { authorization: `Bearer ${wrong}` } });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toEqual({ error: "the bearer token is not valid here" });
    for (const token of [read, full]) {
      const ok = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toMatch(/^# HELP /mu);
    }
  });

  it("leaves /metrics open with ESKIT_METRICS_AUTH=open while the RPCs need a token", async () => {
    const server = await start({ authTokens: [full], readTokens: [], metricsAuth: "open" });
    expect((await fetch(`${server.url}/metrics`)).status).toBe(200);
    const events = createClient(EventStoreService, transports.connect(server.url));
    expect((await rejection(events.getHead({}))).code).toBe(Code.Unauthenticated);
  });

  it("answers CORS preflights without a token, allowing the Authorization header", async () => {
    const { status, headers } = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.request(`${protectedServer.url}/eskit.eventstore.v1.EventStoreService/Append`, {
        method: "OPTIONS",
        headers: {
          origin: "https://app.example",
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization, content-type",
        },
      });
      req.on("response", (res) => {
        res.resume();
        resolve(res);
      });
      req.on("error", reject);
      req.end();
    }).then((res) => ({ status: res.statusCode, headers: res.headers }));
    expect(status).toBe(204);
    expect(headers["access-control-allow-origin"]).toBe("https://app.example");
    expect(String(headers["access-control-allow-headers"]).toLowerCase().split(", ")).toContain("authorization");
  });

  it("without tokens, serves everyone (access control off)", async () => {
    const server = await start(undefined);
    const events = createClient(EventStoreService, transports.grpc(server.url));
    expect((await events.append(appendRequest)).logIds).toEqual([1n]);
    expect((await fetch(`${server.url}/metrics`)).status).toBe(200);
  });
});

describe("the logs of a server with access control", () => {
  it("record refused calls with their code, and never a token", async () => {
    const lines = logText
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const refused = lines.filter((l) => l["msg"] === "rpc" && l["code"] === "unauthenticated");
    expect(refused.length).toBeGreaterThanOrEqual(15);
    expect(lines.filter((l) => l["msg"] === "rpc" && l["code"] === "permission_denied")).toHaveLength(3);
    expect(lines.find((l) => l["msg"] === "access control" && l["auth"] === "on")).toMatchObject({
      full_tokens: 1,
      read_tokens: 1,
      metrics: "token",
    });
    for (const token of [full, read, wrong]) expect(logText).not.toContain(token);
    expect(logText.toLowerCase()).not.toContain("bearer ");
  });
});
