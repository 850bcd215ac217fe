import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus as Status } from "@eskit/gen/grpc/health/v1/health_pb.js";
import { describe, expect, it } from "vitest";
import { healthService } from "./health-service.js";

const SERVICES = ["eskit.eventstore.v1.EventStoreService", "eskit.eventstore.v1.ConsumerService"];

/** A Health client over an in-memory transport, with a check the test controls. */
function setup(check: () => Promise<boolean>) {
  const transport = createRouterTransport((router) => {
    router.service(Health, healthService(check, { services: SERVICES, watchIntervalMs: 10 }));
  });
  return createClient(Health, transport);
}

async function codeOf(promise: Promise<unknown>): Promise<Code | "resolved"> {
  try {
    await promise;
    return "resolved";
  } catch (err) {
    return ConnectError.from(err).code;
  }
}

describe("Health.Check", () => {
  it("reports SERVING for the server and every known service while the check passes", async () => {
    const client = setup(async () => true);
    for (const service of ["", ...SERVICES]) {
      expect((await client.check({ service })).status).toBe(Status.SERVING);
    }
  });

  it("reports NOT_SERVING when the check fails or throws", async () => {
    expect((await setup(async () => false).check({ service: "" })).status).toBe(Status.NOT_SERVING);
    const throwing = setup(() => Promise.reject(new Error("db down")));
    expect((await throwing.check({ service: SERVICES[0] })).status).toBe(Status.NOT_SERVING);
  });

  it("answers not_found for an unknown service, as the gRPC health spec says", async () => {
    const client = setup(async () => true);
    expect(await codeOf(client.check({ service: "no.such.Service" }))).toBe(Code.NotFound);
  });

  it("gives up with deadline_exceeded when the client's deadline passes during a hung check", async () => {
    const client = setup(() => new Promise<boolean>(() => {}));
    const started = Date.now();
    expect(await codeOf(client.check({ service: "" }, { timeoutMs: 100 }))).toBe(Code.DeadlineExceeded);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe("Health.List", () => {
  it("lists the server and every known service with the current status", async () => {
    const res = await setup(async () => false).list({});
    expect(Object.fromEntries(Object.entries(res.statuses).map(([name, s]) => [name, s.status]))).toEqual({
      "": Status.NOT_SERVING,
      "eskit.eventstore.v1.EventStoreService": Status.NOT_SERVING,
      "eskit.eventstore.v1.ConsumerService": Status.NOT_SERVING,
    });
  });
});

describe("Health.Watch", () => {
  it("sends the current status at once, then only changes", async () => {
    let healthy = true;
    let checks = 0;
    const client = setup(async () => {
      checks++;
      return healthy;
    });
    const abort = new AbortController();
    const seen: Status[] = [];
    const ended = codeOf(
      (async () => {
        for await (const res of client.watch({ service: SERVICES[1] }, { signal: abort.signal })) {
          seen.push(res.status);
          // Flip later, from outside the loop, so several unchanged polls pass in between.
          if (seen.length === 1) setTimeout(() => (healthy = false), 60);
          else if (seen.length === 2) setTimeout(() => (healthy = true), 60);
          else {
            abort.abort();
          }
        }
      })(),
    );
    expect(await ended).toBe(Code.Canceled);
    expect(seen).toEqual([Status.SERVING, Status.NOT_SERVING, Status.SERVING]);
    expect(checks).toBeGreaterThan(5);
  });

  it("reports SERVICE_UNKNOWN for an unknown service instead of failing", async () => {
    const client = setup(async () => true);
    const abort = new AbortController();
    const first = await client
      .watch({ service: "later.v1.Service" }, { signal: abort.signal })
      [Symbol.asyncIterator]()
      .next();
    abort.abort();
    expect(first.value?.status).toBe(Status.SERVICE_UNKNOWN);
  });
});
