import { Code, ConnectError, createClient } from "@connectrpc/connect";
import type { HandlerContext } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus as Status } from "@eskit/gen/grpc/health/v1/health_pb.js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Registry } from "prom-client";
import { startHttpServer, type RunningHttpServer } from "../http/http-server.js";
import { silentLogger } from "../logger.js";
import { parseExposition, sampleValue, type MetricSample } from "@eskit/test-kit/exposition.js";
import { promtoolCheckMetrics } from "@eskit/test-kit/promtool.js";
import { createMetricsRegistry } from "./registry.js";
import { itWithTools, promtool } from "@eskit/test-kit/system-tools.js";
import { renderMetrics } from "./cell-metrics.js";

const service = "grpc.health.v1.Health";
let registry: Registry;
let server: RunningHttpServer;

function aborted(ctx: HandlerContext): Promise<never> {
  return new Promise((_, reject) => {
    if (ctx.signal.aborted) reject(ctx.signal.reason);
    ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason), { once: true });
  });
}

beforeEach(async () => {
  registry = createMetricsRegistry();
  server = await startHttpServer({
    port: 0,
    host: "127.0.0.1",
    routes: (router) => {
      router.service(Health, {
        check(req) {
          if (req.service === "missing") throw new ConnectError("no such service", Code.NotFound);
          return { status: Status.SERVING };
        },
        async *watch(_req, ctx) {
          yield { status: Status.SERVING };
          await aborted(ctx);
        },
      });
    },
    corsOrigins: ["*"],
    healthz: async () => true,
    logger: silentLogger,
    metrics: registry,
  });
});

afterEach(async () => {
  await server.close({ timeoutMs: 1000 });
});

async function scrape(): Promise<{
  status: number;
  contentType: string | null;
  body: string;
  samples: MetricSample[];
}> {
  const response = await fetch(`${server.url}/metrics`, { signal: AbortSignal.timeout(5000) });
  const body = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    body,
    samples: parseExposition(body),
  };
}

/** Scrapes until `check` holds (streams end a moment after the client cancels), then returns that scrape. */
async function scrapeUntil(check: (samples: MetricSample[]) => boolean): Promise<MetricSample[]> {
  let samples = (await scrape()).samples;
  for (let i = 0; i < 100 && !check(samples); i++) {
    await new Promise((r) => setTimeout(r, 20));
    samples = (await scrape()).samples;
  }
  return samples;
}

describe("rpc metrics over a real server", () => {
  it("count each call once by method and code, and time every one of them", async () => {
    const client = createClient(Health, createGrpcTransport({ baseUrl: server.url }));
    for (let i = 0; i < 3; i++) await client.check({ service: "" });
    await expect(client.check({ service: "missing" })).rejects.toMatchObject({ code: Code.NotFound });
    const json = createClient(Health, createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }));
    await json.check({ service: "" });

    const { status, contentType, samples } = await scrape();
    expect(status).toBe(200);
    expect(contentType).toBe("text/plain; version=0.0.4; charset=utf-8");
    const check = { service, method: "Check" };
    expect(sampleValue(samples, "eskit_rpc_requests_total", { ...check, code: "ok" })).toBe(4);
    expect(sampleValue(samples, "eskit_rpc_requests_total", { ...check, code: "not_found" })).toBe(1);
    expect(samples.filter((s) => s.name === "eskit_rpc_requests_total")).toHaveLength(2);
    expect(sampleValue(samples, "eskit_rpc_duration_seconds_count", check)).toBe(5);
    expect(sampleValue(samples, "eskit_rpc_duration_seconds_bucket", { ...check, le: "+Inf" })).toBe(5);
    expect(sampleValue(samples, "eskit_rpc_duration_seconds_bucket", { ...check, le: "0.0005" })).toBeDefined();
    expect(sampleValue(samples, "eskit_rpc_duration_seconds_sum", check)).toBeGreaterThan(0);
    expect(sampleValue(samples, "eskit_rpc_duration_seconds_sum", check)).toBeLessThan(5);
  });

  it("show a server stream as open while it runs, and count it as canceled once the client cancels", async () => {
    const client = createClient(Health, createGrpcTransport({ baseUrl: server.url }));
    const abort = new AbortController();
    const stream = client.watch({ service: "" }, { signal: abort.signal })[Symbol.asyncIterator]();
    expect((await stream.next()).value?.status).toBe(Status.SERVING);
    const watch = { service, method: "Watch" };

    const open = (await scrape()).samples;
    expect(sampleValue(open, "eskit_rpc_streams_open", watch)).toBe(1);
    expect(sampleValue(open, "eskit_rpc_requests_total", { ...watch, code: "canceled" })).toBeUndefined();
    expect(sampleValue(open, "eskit_rpc_duration_seconds_count", watch)).toBe(0);

    abort.abort();
    await expect(stream.next()).rejects.toMatchObject({ code: Code.Canceled });
    const closed = await scrapeUntil((s) => sampleValue(s, "eskit_rpc_streams_open", watch) === 0);
    expect(sampleValue(closed, "eskit_rpc_streams_open", watch)).toBe(0);
    expect(sampleValue(closed, "eskit_rpc_requests_total", { ...watch, code: "canceled" })).toBe(1);
    expect(sampleValue(closed, "eskit_rpc_duration_seconds_count", watch)).toBe(1);
  });

  it("count a stream ended by shutdown as unavailable and close it in the gauge", async () => {
    const client = createClient(Health, createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }));
    const streams = [0, 1].map(() => client.watch({ service: "" })[Symbol.asyncIterator]());
    for (const stream of streams) await stream.next();
    expect(sampleValue((await scrape()).samples, "eskit_rpc_streams_open", { service, method: "Watch" })).toBe(2);
    await server.close({ timeoutMs: 1000 });
    for (const stream of streams) await expect(stream.next()).rejects.toMatchObject({ code: Code.Unavailable });
    const samples = parseExposition(await renderMetrics(registry));
    expect(sampleValue(samples, "eskit_rpc_streams_open", { service, method: "Watch" })).toBe(0);
    expect(sampleValue(samples, "eskit_rpc_requests_total", { service, method: "Watch", code: "unavailable" })).toBe(2);
  });

  itWithTools([promtool], "serve what promtool check metrics accepts, process metrics included", async () => {
    const client = createClient(Health, createGrpcTransport({ baseUrl: server.url }));
    await client.check({ service: "" });
    await expect(client.check({ service: "missing" })).rejects.toThrow();
    const { body, samples } = await scrape();
    expect(sampleValue(samples, "process_cpu_seconds_total")).toBeGreaterThan(0);
    expect(samples.some((s) => s.name === "nodejs_eventloop_lag_seconds")).toBe(true);
    expect(await promtoolCheckMetrics(body)).toEqual({ exitCode: 0, output: "" });
  });

  it("answers 404 to other methods than GET, as before", async () => {
    const response = await fetch(`${server.url}/metrics`, { method: "POST" });
    await response.arrayBuffer();
    expect(response.status).toBe(404);
  });
});
