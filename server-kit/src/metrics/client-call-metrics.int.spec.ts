import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus as Status } from "@eskit/gen/grpc/health/v1/health_pb.js";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHttpServer, type RunningHttpServer } from "../http/http-server.js";
import { silentLogger } from "../logger.js";
import { clientCallsInterceptor } from "./client-call-metrics.js";
import { parseExposition, sampleValue } from "@eskit/test-kit/exposition.js";
import { promtoolCheckMetrics } from "@eskit/test-kit/promtool.js";
import { itWithTools, promtool } from "@eskit/test-kit/system-tools.js";
import { renderMetrics } from "./cell-metrics.js";

let server: RunningHttpServer;
beforeAll(async () => {
  server = await startHttpServer({
    port: 0,
    host: "127.0.0.1",
    routes: (router) => {
      router.service(Health, {
        check(req) {
          if (req.service === "missing") throw new ConnectError("no such service", Code.NotFound);
          return { status: Status.SERVING };
        },
        async *watch() {
          yield { status: Status.SERVING };
        },
      });
    },
    corsOrigins: ["*"],
    healthz: async () => true,
    logger: silentLogger,
  });
});
afterAll(async () => {
  await server.close({ timeoutMs: 1000 });
});

const metric = { name: "t_dependency_calls_total", help: "Calls to a dependency." };

describe("clientCallsInterceptor", () => {
  /** What the first test scraped, checked by promtool in the second (skipped without promtool, outside CI). */
  let body = "";

  it("counts a client's calls by method and the code it received", async () => {
    const registry = new Registry();
    const interceptors = [clientCallsInterceptor(registry, metric)];
    const client = createClient(Health, createGrpcTransport({ baseUrl: server.url, interceptors }));
    await client.check({ service: "" });
    await client.check({ service: "" });
    await expect(client.check({ service: "missing" })).rejects.toMatchObject({ code: Code.NotFound });
    const statuses = [];
    for await (const response of client.watch({ service: "" })) statuses.push(response.status);
    expect(statuses).toEqual([Status.SERVING]);
    // Nothing listens on port 9 of this host.
    const unreachable = createClient(Health, createGrpcTransport({ baseUrl: "http://127.0.0.1:9", interceptors }));
    await expect(unreachable.check({ service: "" }, { timeoutMs: 2000 })).rejects.toMatchObject({
      code: Code.Unavailable,
    });

    body = await renderMetrics(registry);
    const samples = parseExposition(body);
    expect(sampleValue(samples, metric.name, { method: "Check", code: "ok" })).toBe(2);
    expect(sampleValue(samples, metric.name, { method: "Check", code: "not_found" })).toBe(1);
    expect(sampleValue(samples, metric.name, { method: "Check", code: "unavailable" })).toBe(1);
    expect(sampleValue(samples, metric.name, { method: "Watch", code: "ok" })).toBe(1);
    expect(samples).toHaveLength(4);
  });

  itWithTools([promtool], "reports those counts in a form promtool check metrics accepts", async () => {
    expect(body).toContain(metric.name);
    expect(await promtoolCheckMetrics(body)).toEqual({ exitCode: 0, output: "" });
  });
});
