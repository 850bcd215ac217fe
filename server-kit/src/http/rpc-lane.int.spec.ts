import * as http from "node:http";
import * as http2 from "node:http2";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext, type Interceptor } from "@connectrpc/connect";
import {
  Health,
  HealthCheckRequestSchema,
  HealthCheckResponse_ServingStatus as Status,
  HealthCheckResponseSchema,
} from "@eskit/gen/grpc/health/v1/health_pb.js";
import fc from "fast-check";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { classify } from "../auth/rpc-access.js";
import { silentLogger } from "../logger.js";
import { startHttpServer, type RunningHttpServer } from "./http-server.js";
import { laneKey } from "./rpc-lane.js";

/**
 * The unary lane answers what it takes exactly as connect-es's handlers do: the same requests go to a server with the
 * lane and to one without, and every answer must be equal byte for byte (status, headers, body, trailers). The
 * requests mix what the lane takes with what it hands to the full path (other content types, bad bodies, framing
 * errors, timeouts, tokens), and the implementation answers in every way a handler can (headers and trailers, errors
 * with metadata and details, a crash, a deadline, a plain object).
 */

const token = "lane-test-token";
const laneSeen: boolean[] = [];

/** Before the guards (auth, deadlines), so calls they refuse count too. */
const seeLane: Interceptor = (next) => (req) => {
  laneSeen.push(req.contextValues.get(laneKey));
  return next(req);
};

/**
 * Calls of "hold": whether the lane answered, whether its signal aborted (rather than its own 2 s passing), and how
 * long the handler waited.
 */
const held: Array<{ lane: boolean; aborted: boolean; ms: number }> = [];
/** Told each time a "hold" handler starts (the call has reached it). */
let holdStarted: () => void = () => {};

async function check(request: { service: string }, context: HandlerContext) {
  switch (request.service) {
    case "hold": {
      // Waits for its signal: the client's cancel must abort it (long before the server's default deadline).
      const started = performance.now();
      holdStarted();
      const aborted = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 2000);
        context.signal.addEventListener("abort", () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      held.push({ lane: context.values.get(laneKey), aborted, ms: performance.now() - started });
      return { status: Status.SERVING };
    }
    case "headers":
      context.responseHeader.set("x-answer", "header");
      context.responseTrailer.set("x-answer-trailer", "trailer");
      return create(HealthCheckResponseSchema, { status: Status.NOT_SERVING });
    case "details":
      throw new ConnectError("refused: ünïcode, 100 % sure\nsecond line", Code.FailedPrecondition, { "x-why": "x" }, [
        { desc: HealthCheckRequestSchema, value: { service: "detail" } },
      ]);
    case "crash":
      throw new Error("a bug of ours");
    case "slow":
      // Ends at the call's deadline (the client's, or the server's default of 300 ms), or after 400 ms.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 400);
        context.signal.addEventListener("abort", () => {
          clearTimeout(timer);
          resolve();
        });
      });
      return { status: Status.SERVING };
    case "deadline": {
      // What is left of the call's deadline, as a handler passes it on to its own calls: whole milliseconds.
      const left = context.timeoutMs();
      if (left !== undefined && !Number.isInteger(left)) throw new Error(`timeoutMs() gave ${left}`);
      return { status: left === undefined ? Status.SERVING : Status.NOT_SERVING };
    }
    case "plain":
      return { status: Status.SERVICE_UNKNOWN };
    default:
      return create(HealthCheckResponseSchema, { status: Status.SERVING });
  }
}

/** The stream's counterpart: messages, headers and trailers, an error after messages or before any, a deadline. */
async function* watch(request: { service: string }, context: HandlerContext) {
  const message = (status: Status) => create(HealthCheckResponseSchema, { status });
  switch (request.service) {
    case "headers":
      context.responseHeader.set("x-answer", "header");
      yield message(Status.SERVING);
      context.responseTrailer.set("x-answer-trailer", "trailer");
      yield message(Status.NOT_SERVING);
      return;
    case "details":
      yield message(Status.SERVING);
      throw new ConnectError("refused: ünïcode, 100 % sure", Code.FailedPrecondition, { "x-why": "x" }, [
        { desc: HealthCheckRequestSchema, value: { service: "detail" } },
      ]);
    case "crash":
      throw new Error("a bug of ours");
    case "slow":
      yield message(Status.SERVING);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 400);
        context.signal.addEventListener("abort", () => {
          clearTimeout(timer);
          resolve();
        });
      });
      context.signal.throwIfAborted();
      yield message(Status.NOT_SERVING);
      return;
    case "plain":
      return;
    default:
      for (let i = 0; i < 3; i++) yield { status: Status.SERVING };
  }
}

async function start(lane: boolean): Promise<RunningHttpServer> {
  return startHttpServer({
    port: 0,
    host: "127.0.0.1",
    routes: (router) => router.service(Health, { check, watch }),
    interceptors: [seeLane],
    corsOrigins: [],
    healthz: async () => true,
    logger: silentLogger,
    auth: { authTokens: [token], readTokens: [], metricsAuth: "open" },
    access: new Map([classify(Health, { check: "write", list: "open", watch: "write" })]),
    metrics: new Registry(),
    readMaxBytes: 1024,
    limits: { defaultDeadlineMs: 300 },
    lane,
  });
}

interface Answer {
  status: number;
  headers: Record<string, unknown>;
  body: string;
  trailers: Record<string, unknown>;
}

const ignored = new Set(["date", "connection", "keep-alive"]);

function clean(headers: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => !ignored.has(k) && !k.startsWith(":")));
}

function h1(url: string, path: string, headers: Record<string, string>, body: Uint8Array): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}${path}`, { method: "POST", headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: clean(res.headers),
          body: Buffer.concat(chunks).toString("base64"),
          trailers: clean(res.trailers),
        }),
      );
    });
    req.on("error", reject);
    req.end(body);
  });
}

function h2(session: http2.ClientHttp2Session, path: string, headers: Record<string, string>, body: Uint8Array) {
  return new Promise<Answer>((resolve, reject) => {
    const stream = session.request({ ":method": "POST", ":path": path, ...headers });
    let head: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on("response", (h) => (head = h));
    stream.on("trailers", (t) => (trailers = t));
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () =>
      resolve({
        status: Number(head[":status"]),
        headers: clean(head),
        body: Buffer.concat(chunks).toString("base64"),
        trailers: clean(trailers),
      }),
    );
    stream.on("error", reject);
    stream.end(body);
  });
}

const services = ["", "headers", "details", "crash", "slow", "deadline", "plain"] as const;

const unaryTypes = [
  "application/json",
  "application/proto",
  "application/grpc",
  "application/grpc+proto",
  "application/json; charset=utf-8",
  "application/grpc+json",
] as const;
const streamTypes = [
  "application/connect+proto",
  "application/connect+json",
  "application/grpc",
  "application/grpc+proto",
  "application/grpc-web+proto",
  "application/connect+json; charset=utf-8",
] as const;

const requestArb = fc.record({
  h2: fc.boolean(),
  call: fc.oneof(
    fc.record({ method: fc.constant("Check" as const), contentType: fc.constantFrom(...unaryTypes) }),
    fc.record({ method: fc.constant("Watch" as const), contentType: fc.constantFrom(...streamTypes) }),
  ),
  service: fc.constantFrom(...services),
  body: fc.constantFrom("valid", "valid", "valid", "garbage", "empty", "truncated", "two", "compressed-flag", "large"),
  timeout: fc.constantFrom("none", "none", "short", "long", "invalid"),
  auth: fc.constantFrom("good", "good", "none", "wrong"),
  acceptEncoding: fc.constantFrom(undefined, "gzip", "identity", "br,gzip"),
  contentLength: fc.boolean(),
});

type Request = typeof requestArb extends fc.Arbitrary<infer T> ? T : never;

function enveloped(r: Request): boolean {
  return r.call.method === "Watch" || r.call.contentType.startsWith("application/grpc");
}

function messageBytes(r: Request): Uint8Array {
  const json = r.call.contentType.includes("json");
  if (r.body === "garbage") return json ? Buffer.from("{not json") : Buffer.from([0xff, 0xff, 0xff, 0x07]);
  if (r.body === "empty") return new Uint8Array(0);
  const service = r.body === "large" ? "x".repeat(2000) : r.service;
  return json
    ? Buffer.from(JSON.stringify({ service }))
    : toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema, { service }));
}

function bodyOf(r: Request): Uint8Array {
  const message = messageBytes(r);
  if (!enveloped(r)) return message;
  const frame = (flags: number, data: Uint8Array): Buffer => {
    const head = Buffer.alloc(5);
    head[0] = flags;
    head.writeUInt32BE(data.length, 1);
    return Buffer.concat([head, data]);
  };
  switch (r.body) {
    case "empty":
      return new Uint8Array(0);
    case "truncated":
      return frame(0, message).subarray(0, 3 + message.length);
    case "two":
      return Buffer.concat([frame(0, message), frame(0, message)]);
    case "compressed-flag":
      return frame(1, message);
    default:
      return frame(0, message);
  }
}

function headersOf(r: Request, body: Uint8Array): Record<string, string> {
  const grpc = r.call.contentType.startsWith("application/grpc");
  const out: Record<string, string> = { "content-type": r.call.contentType };
  if (grpc) out.te = "trailers";
  if (r.timeout !== "none") {
    const value = { short: grpc ? "50m" : "50", long: grpc ? "10S" : "10000", invalid: "soon" }[r.timeout];
    out[grpc ? "grpc-timeout" : "connect-timeout-ms"] = value;
  }
  if (r.auth === "good") out.authorization = `Bearer ${token}`;
  if (r.auth === "wrong") out.authorization = "Bearer nope";
  const accept = grpc
    ? "grpc-accept-encoding"
    : r.call.method === "Watch"
      ? "connect-accept-encoding"
      : "accept-encoding";
  if (r.acceptEncoding !== undefined) out[accept] = r.acceptEncoding;
  if (r.contentLength || !r.h2) out["content-length"] = String(body.length);
  return out;
}

describe("rpc lane", () => {
  let lane: RunningHttpServer;
  let full: RunningHttpServer;
  let laneSession: http2.ClientHttp2Session;
  let fullSession: http2.ClientHttp2Session;

  beforeAll(async () => {
    lane = await start(true);
    full = await start(false);
    laneSession = http2.connect(lane.url);
    fullSession = http2.connect(full.url);
  });

  afterAll(async () => {
    laneSession.close();
    fullSession.close();
    await lane.close({ timeoutMs: 500 });
    await full.close({ timeoutMs: 500 });
  });

  async function both(r: Request): Promise<{ a: Answer; b: Answer; laneTook: boolean | undefined }> {
    const body = bodyOf(r);
    const headers = headersOf(r, body);
    const path = `/grpc.health.v1.Health/${r.call.method}`;
    const grpcOverH1 = !r.h2 && r.call.contentType.startsWith("application/grpc");
    const send = (server: RunningHttpServer, session: http2.ClientHttp2Session): Promise<Answer> =>
      r.h2 || grpcOverH1 ? h2(session, path, headers, body) : h1(server.url, path, headers, body);
    const seen = laneSeen.length;
    const a = await send(lane, laneSession);
    const laneTook = laneSeen.length > seen ? laneSeen[seen] : undefined;
    const b = await send(full, fullSession);
    return { a, b, laneTook };
  }

  it("answers every request exactly as connect-es does", { timeout: 120_000 }, async () => {
    let taken = 0;
    await fc.assert(
      fc.asyncProperty(requestArb, async (r) => {
        const { a, b, laneTook } = await both(r);
        expect(a).toEqual(b);
        if (laneTook === true) taken++;
      }),
      { numRuns: 400 },
    );
    // The lane really answered a good share of them (else the comparison above proves nothing).
    expect(taken).toBeGreaterThan(50);
  });

  it.each([
    ["Check", "application/json", true],
    ["Check", "application/proto", true],
    ["Check", "application/grpc", true],
    ["Check", "application/grpc+proto", true],
    ["Check", "application/grpc+json", false],
    ["Check", "application/json; charset=utf-8", false],
    ["Watch", "application/connect+proto", true],
    ["Watch", "application/connect+json", true],
    ["Watch", "application/grpc", true],
    ["Watch", "application/grpc-web+proto", false],
  ])("%s as %s: in the lane %s", async (method, contentType, expected) => {
    const r = {
      h2: true,
      call: { method, contentType },
      service: "",
      body: "valid",
      timeout: "none",
      auth: "good",
      acceptEncoding: undefined,
      contentLength: false,
    } as Request;
    const { a, b, laneTook } = await both(r);
    expect(a).toEqual(b);
    expect(laneTook).toBe(expected);
  });

  it.each([
    ["HTTP/1.1", "application/json"],
    ["HTTP/2", "application/proto"],
    ["HTTP/2", "application/grpc"],
  ])("aborts the handler's signal when the client cancels a unary call (%s, %s)", async (transport, contentType) => {
    const grpc = contentType === "application/grpc";
    const json = contentType === "application/json";
    const message = json
      ? Buffer.from(JSON.stringify({ service: "hold" }))
      : toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema, { service: "hold" }));
    const body = grpc ? Buffer.concat([Buffer.from([0, 0, 0, 0, message.length]), message]) : message;
    // A long deadline of the client's own, so that only the cancel can end the call early.
    const deadline = grpc ? { "grpc-timeout": "10S" } : { "connect-timeout-ms": "10000" };
    const headers = { "content-type": contentType, authorization: `Bearer ${token}`, ...deadline };
    for (const [server, session, inLane] of [
      [lane, laneSession, true],
      [full, fullSession, false],
    ] as const) {
      const before = held.length;
      // The cancel is sent once the call has reached its handler, however long that takes on this machine.
      const entered = new Promise<void>((resolve) => (holdStarted = resolve));
      if (transport === "HTTP/1.1") {
        const req = http.request(`${server.url}/grpc.health.v1.Health/Check`, {
          method: "POST",
          headers,
          agent: false,
        });
        req.on("error", () => {});
        req.end(body);
        await entered;
        req.destroy();
      } else {
        const stream = session.request({ ":method": "POST", ":path": "/grpc.health.v1.Health/Check", ...headers });
        stream.on("error", () => {});
        stream.end(body);
        await entered;
        stream.close(http2.constants.NGHTTP2_CANCEL);
      }
      holdStarted = () => {};
      // The handler ends by its own 2 s at the latest; waits longer than that for it to say how it ended.
      for (const until = Date.now() + 10_000; held.length === before && Date.now() < until;) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const call = held[before];
      expect(call?.lane).toBe(inLane);
      // Aborted by the cancel, not ended by the handler's own 2 s (a handler never told waits those 2 s out).
      expect(call?.aborted).toBe(true);
      // Promptly: a sanity bound (the handler's own 2 s give `aborted: false` already).
      expect(call?.ms).toBeLessThan(5000);
    }
  });
});
