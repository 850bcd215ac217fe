import {
  Code,
  ConnectError,
  createClient,
  type Client,
  type HandlerContext,
  type Interceptor,
  type Transport,
} from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus as Status } from "@eskit/gen/grpc/health/v1/health_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHttpServer, type RunningHttpServer } from "../http/http-server.js";
import { silentLogger } from "../logger.js";

// Real servers with small limits, called over gRPC, gRPC-Web and Connect. Health stands in for any service: Check is
// a unary call that takes `service` as a number of milliseconds (ignoring its signal, like a handler stuck in a call
// that cannot be interrupted; "busy:<ms>" holds the event loop that long), Watch a stream that stays open until
// canceled.

const maxStreams = 2;
const defaultDeadlineMs = 300;
/** Signals of the Check calls, by their delay, to see what the handler was told. */
const checkSignals = new Map<string, AbortSignal>();
/** When each Check handler returned (`performance.now()`), by its delay: to order it against the client's answer. */
const checkReturned = new Map<string, number>();

async function start(limits: { maxStreams?: number; defaultDeadlineMs?: number }): Promise<RunningHttpServer> {
  return startHttpServer({
    port: 0,
    host: "127.0.0.1",
    routes: (router) =>
      router.service(Health, {
        async check(req, ctx: HandlerContext) {
          checkSignals.set(req.service, ctx.signal);
          if (req.service.startsWith("busy:")) {
            for (const end = performance.now() + Number(req.service.slice(5)); performance.now() < end;);
          } else {
            await new Promise((resolve) => setTimeout(resolve, Number(req.service)));
          }
          checkReturned.set(req.service, performance.now());
          return { status: Status.SERVING };
        },
        async *watch(_req, ctx: HandlerContext) {
          yield { status: Status.SERVING };
          await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
        },
      }),
    corsOrigins: ["*"],
    healthz: async () => true,
    logger: silentLogger,
    limits,
  });
}

let server: RunningHttpServer;
beforeAll(async () => {
  server = await start({ maxStreams, defaultDeadlineMs });
});
afterAll(async () => {
  await server.close({ timeoutMs: 1000 });
});

const transports = {
  connect: (baseUrl: string, interceptors: Interceptor[] = []): Transport =>
    createConnectTransport({ baseUrl, httpVersion: "1.1", interceptors }),
  grpc: (baseUrl: string, interceptors: Interceptor[] = []): Transport =>
    createGrpcTransport({ baseUrl, interceptors }),
  "grpc-web": (baseUrl: string, interceptors: Interceptor[] = []): Transport =>
    createGrpcWebTransport({ baseUrl, httpVersion: "1.1", interceptors }),
};

/**
 * Tells the server a deadline of `ms` while the client itself waits for its own (longer) timeout: what the test then
 * sees is the server's answer, not the client giving up.
 */
function serverDeadline(ms: number): Interceptor {
  return (next) => (req) => {
    if (req.header.has("grpc-timeout")) req.header.set("grpc-timeout", `${ms}m`);
    else req.header.set("connect-timeout-ms", String(ms));
    return next(req);
  };
}

/** An open Watch stream (its first message received); `close()` cancels it. */
async function openWatch(health: Client<typeof Health>): Promise<{ close(): void }> {
  const stop = new AbortController();
  const stream = health.watch({}, { signal: stop.signal })[Symbol.asyncIterator]();
  try {
    const first = await stream.next();
    expect(first.value?.status).toBe(Status.SERVING);
  } catch (error) {
    stop.abort();
    throw error;
  }
  return { close: () => stop.abort() };
}

async function codeOf(call: Promise<unknown>): Promise<Code | "ok"> {
  return call.then(
    () => "ok" as const,
    (error: unknown) => ConnectError.from(error).code,
  );
}

describe.each(Object.keys(transports) as Array<keyof typeof transports>)("request limits over %s", (protocol) => {
  let health: Client<typeof Health>;
  beforeAll(() => {
    health = createClient(Health, transports[protocol](server.url));
  });

  it("refuses one stream more than ESKIT_MAX_STREAMS with resource_exhausted, and accepts it once one closed", async () => {
    const open = [await openWatch(health), await openWatch(health)];
    const refused = await openWatch(health).then(
      () => undefined,
      (error: unknown) => ConnectError.from(error),
    );
    expect(refused?.code).toBe(Code.ResourceExhausted);
    expect(refused?.rawMessage).toBe(
      "this server already has 2 streams open, its limit (ESKIT_MAX_STREAMS): retry later",
    );
    // Unary calls are not streams: they still pass.
    expect((await health.check({ service: "0" })).status).toBe(Status.SERVING);

    open.shift()!.close();
    let third: { close(): void } | undefined;
    for (const deadline = Date.now() + 5000; third === undefined && Date.now() < deadline;) {
      third = await openWatch(health).catch(() => undefined);
      if (third === undefined) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(third).toBeDefined();
    third?.close();
    for (const stream of open) stream.close();
  });

  it("ends a unary call without a client deadline at the default deadline with deadline_exceeded", async () => {
    const started = performance.now();
    const error = await health.check({ service: "2000" }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    const elapsed = performance.now() - started;
    expect(error?.code).toBe(Code.DeadlineExceeded);
    expect(error?.rawMessage).toBe(
      "the call took longer than the server's default deadline of 300 ms; set a deadline on the call to allow more",
    );
    expect(elapsed).toBeGreaterThanOrEqual(defaultDeadlineMs - 5);
    expect(elapsed).toBeLessThan(1500);
    // The handler was told through its signal.
    expect(checkSignals.get("2000")?.aborted).toBe(true);
  });

  it("refuses the late answer of a handler that held the event loop past the default deadline", async () => {
    expect(await codeOf(health.check({ service: `busy:${defaultDeadlineMs + 100}` }))).toBe(Code.DeadlineExceeded);
  });

  it("lets a client deadline win over the default, longer or shorter", async () => {
    expect((await health.check({ service: "600" }, { timeoutMs: 5000 })).status).toBe(Status.SERVING);
    expect(await codeOf(health.check({ service: "1000" }, { timeoutMs: 100 }))).toBe(Code.DeadlineExceeded);
  });

  it("answers deadline_exceeded at the client's deadline while the handler has not returned", async () => {
    const told = createClient(Health, transports[protocol](server.url, [serverDeadline(200)]));
    // A handler that ignores its signal and returns after 3 s; its own delay per protocol, so that the handler of the
    // previous protocol's call (still sleeping) cannot be mistaken for this one.
    const service = String(3000 + Object.keys(transports).indexOf(protocol));
    const started = performance.now();
    const code = await codeOf(told.check({ service }, { timeoutMs: 10_000 }));
    const elapsed = performance.now() - started;
    expect(code).toBe(Code.DeadlineExceeded);
    // Not before the deadline: timers never fire early.
    expect(elapsed).toBeGreaterThanOrEqual(195);
    // The answer came while the handler was still waiting (it had not returned), and the handler was told through its
    // signal. A server that waits for the handler before answering (connect-es's own behaviour) answers only after
    // it returned, at ~3000 ms: this ordering fails it however slow the machine is.
    expect(checkSignals.get(service)?.aborted).toBe(true);
    expect(checkReturned.get(service)).toBeUndefined();
    // A sanity bound far below what waiting for the handler gives (~3000 ms).
    expect(elapsed).toBeLessThan(2000);
  });

  it("exempts streams from the default deadline", async () => {
    const stream = await openWatch(health);
    await new Promise((resolve) => setTimeout(resolve, defaultDeadlineMs + 200));
    // Still open: it holds one of the two slots, so one more opens and the next is refused.
    const second = await openWatch(health);
    expect(await codeOf(openWatch(health))).toBe(Code.ResourceExhausted);
    stream.close();
    second.close();
  });
});

describe("request limits configured off", () => {
  it("with ESKIT_DEFAULT_DEADLINE_MS=0, a unary call without a deadline runs to its end", async () => {
    const unlimited = await start({ defaultDeadlineMs: 0 });
    try {
      const health = createClient(Health, transports.grpc(unlimited.url));
      expect((await health.check({ service: "500" })).status).toBe(Status.SERVING);
    } finally {
      await unlimited.close({ timeoutMs: 1000 });
    }
  });
});
