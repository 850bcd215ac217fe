import { Code, ConnectError, createRouterTransport } from "@connectrpc/connect";
import { ConsumerService } from "@eskit/gen/eskit/eventstore/v1/consumer_pb.js";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { projectionConsumerId, projectionOfConsumer } from "./projection-consumer-id.js";
import { finalReportTimeoutMs, reportPosition, resolveProjectionReport } from "./projection-report.js";
import { createStatusTracker } from "./projection-status.js";

type Answer = "ok" | "unavailable" | "permission_denied" | "silent";

/** A ConsumerService that records each SaveOffset it gets and answers it as `answer` says at the time. */
function fakeConsumers(answer: () => Answer = () => "ok") {
  const received: Array<{ consumerId: string; offset: bigint }> = [];
  const transport = createRouterTransport((router) =>
    router.service(ConsumerService, {
      async saveOffset(request, context) {
        received.push({ consumerId: request.consumerId, offset: request.offset });
        const mode = answer();
        if (mode === "unavailable") throw new ConnectError("store down", Code.Unavailable);
        if (mode === "permission_denied") throw new ConnectError("a read token", Code.PermissionDenied);
        if (mode === "silent") {
          await new Promise((_, reject) =>
            context.signal.addEventListener("abort", () => reject(context.signal.reason)),
          );
        }
        return {};
      },
    }),
  );
  return { transport, received, offsets: () => received.map((r) => r.offset) };
}

function logged() {
  const lines: Array<{ level: string; message: string; fields: object }> = [];
  const at = (level: string) => (fields: object, message: string) => void lines.push({ level, message, fields });
  return { lines, logger: { info: at("info"), warn: at("warn"), error: at("error") } };
}

function reporting(store: ReturnType<typeof fakeConsumers>, intervalMs = 1000, name = "orders") {
  const log = logged();
  const report = reportPosition(createStatusTracker(name), resolveProjectionReport(name, { intervalMs }), {
    name,
    transport: store.transport,
    headers: undefined,
    timeoutMs: 60_000,
    backoff: { initialDelayMs: 10, maxDelayMs: 50 },
    logger: log.logger,
  });
  return { ...report, ...log };
}

describe("resolveProjectionReport", () => {
  it("reports as projection:<name> every second unless told otherwise", () => {
    expect(resolveProjectionReport("orders", undefined)).toEqual({ consumerId: "projection:orders", intervalMs: 1000 });
    expect(resolveProjectionReport("orders", true)).toEqual({ consumerId: "projection:orders", intervalMs: 1000 });
    expect(resolveProjectionReport("orders", { consumerId: "orders-view", intervalMs: 250 })).toEqual({
      consumerId: "orders-view",
      intervalMs: 250,
    });
    expect(resolveProjectionReport("orders", false).consumerId).toBeUndefined();
  });

  it("turns reporting off, saying why, when the default id would exceed 255 characters", () => {
    const longest = "x".repeat(255 - "projection:".length);
    expect(resolveProjectionReport(longest, undefined).consumerId).toBe(`projection:${longest}`);
    const report = resolveProjectionReport(`${longest}y`, undefined);
    expect(report.consumerId).toBeUndefined();
    expect(report.skipped).toMatch(/longer than 255 characters: set reportPosition.consumerId/);
  });

  it.each([
    [{ consumerId: "" }, /consumerId must be 1–255 characters/],
    [{ consumerId: "a\u0000b" }, /without NUL/],
    [{ consumerId: "x".repeat(256) }, /consumerId/],
    [{ intervalMs: 0 }, /intervalMs must be an integer from 1/],
    [{ intervalMs: 2.5 }, /intervalMs/],
  ])("refuses %o before anything connects", (option, message) => {
    expect(() => resolveProjectionReport("orders", option)).toThrow(message);
  });
});

describe("projectionOfConsumer", () => {
  it("reads the projection's name back from its default consumer id, and nothing from other ids", () => {
    expect(projectionOfConsumer(projectionConsumerId("orders:v2"))).toBe("orders:v2");
    expect(projectionOfConsumer("billing")).toBeUndefined();
    expect(projectionOfConsumer("projection:")).toBeUndefined();
    expect(projectionOfConsumer("Projection:orders")).toBeUndefined();
  });
});

describe("reporting a projection's position", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("reports the position it starts holding at, then the latest committed one at most once an interval", async () => {
    const store = fakeConsumers();
    const { status } = reporting(store);
    status.position(5n);
    status.state("running");
    await vi.advanceTimersByTimeAsync(999);
    expect(store.offsets()).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(store.received).toEqual([{ consumerId: "projection:orders", offset: 5n }]);
    for (const position of [10n, 20n, 30n]) status.applied(position, 10);
    await vi.advanceTimersByTimeAsync(999);
    expect(store.offsets()).toEqual([5n]);
    await vi.advanceTimersByTimeAsync(1);
    expect(store.offsets()).toEqual([5n, 30n]);
    expect(status.snapshot()).toMatchObject({ position: 30n, applied: 30, batches: 3, state: "running" });
  });

  it("reports nothing while another instance holds it, and drops what was unreported when its hold is lost", async () => {
    const store = fakeConsumers();
    const { status, letGo } = reporting(store);
    status.state("waiting");
    status.position(7n);
    await vi.advanceTimersByTimeAsync(5000);
    expect(store.offsets()).toEqual([]);
    status.state("running");
    status.applied(12n, 5);
    status.state("waiting"); // lost: the instance that took over may be further already
    await letGo();
    await vi.advanceTimersByTimeAsync(5000);
    expect(store.offsets()).toEqual([]);
  });

  it("reports the last committed position when letting go, without waiting for the interval", async () => {
    const store = fakeConsumers();
    const { status, letGo } = reporting(store, 60_000);
    status.position(3n);
    status.state("running");
    status.applied(9n, 6);
    await letGo();
    expect(store.offsets()).toEqual([9n]);
    status.applied(11n, 2);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(store.offsets()).toEqual([9n]);
  });

  it("retries an unreachable store in the background no more often than the interval, logging the outage once", async () => {
    let answer: Answer = "unavailable";
    const store = fakeConsumers(() => answer);
    const { status, lines } = reporting(store, 1000);
    status.state("running");
    for (let i = 1n; i <= 100n; i++) {
      status.applied(i, 1);
      await vi.advanceTimersByTimeAsync(100);
    }
    // 10 s of commits: one attempt a second at most.
    expect(store.received.length).toBeGreaterThanOrEqual(5);
    expect(store.received.length).toBeLessThanOrEqual(11);
    expect(lines).toEqual([
      {
        level: "warn",
        message: "projection: could not report its position to the Event Store",
        fields: { projection: "orders", consumerId: "projection:orders", err: "[unavailable] store down" },
      },
    ]);
    answer = "ok";
    await vi.advanceTimersByTimeAsync(2000);
    expect(store.offsets().at(-1)).toBe(100n);
    expect(lines.at(-1)).toMatchObject({
      level: "info",
      message: "projection: reporting its position to the Event Store again",
    });
  });

  it("stops reporting for the run after a refusal, said once", async () => {
    const store = fakeConsumers(() => "permission_denied");
    const { status, letGo, lines } = reporting(store, 100);
    status.state("running");
    for (let i = 1n; i <= 20n; i++) {
      status.applied(i, 1);
      await vi.advanceTimersByTimeAsync(100);
    }
    await letGo();
    status.state("running");
    status.applied(30n, 10);
    await letGo();
    expect(store.received.length).toBe(1);
    expect(lines).toEqual([
      {
        level: "warn",
        message: "projection: the Event Store refused its position report; it reports no more",
        fields: { projection: "orders", consumerId: "projection:orders", err: "[permission_denied] a read token" },
      },
    ]);
  });

  it("gives up the last report after finalReportTimeoutMs when the store does not answer", async () => {
    const store = fakeConsumers(() => "silent");
    const { status, letGo, lines } = reporting(store, 60_000);
    status.state("running");
    status.applied(4n, 4);
    let settled = false;
    const letting = letGo().then(() => (settled = true));
    await vi.advanceTimersByTimeAsync(finalReportTimeoutMs - 1);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await letting;
    expect(store.offsets()).toEqual([4n]);
    expect(lines.map((line) => line.message)).toEqual([
      "projection: could not report its last position to the Event Store",
    ]);
  });

  it("is not hurt by a logger that throws", async () => {
    const store = fakeConsumers(() => "unavailable");
    const thrower = () => {
      throw new Error("logger down");
    };
    const report = reportPosition(
      createStatusTracker("orders"),
      resolveProjectionReport("orders", { intervalMs: 10 }),
      {
        name: "orders",
        transport: store.transport,
        headers: undefined,
        timeoutMs: 1000,
        backoff: { initialDelayMs: 10, maxDelayMs: 10 },
        logger: { info: thrower, warn: thrower, error: thrower },
      },
    );
    report.status.state("running");
    report.status.applied(2n, 2);
    await vi.advanceTimersByTimeAsync(100);
    const letting = report.letGo();
    await vi.advanceTimersByTimeAsync(finalReportTimeoutMs);
    await letting;
    expect(store.received.length).toBeGreaterThan(1);
    expect(report.status.snapshot()).toMatchObject({ state: "running", position: 2n });
  });

  it("reports nothing when off, and says once why a default-on report is off", async () => {
    const store = fakeConsumers();
    const log = logged();
    const name = "n".repeat(250);
    const report = reportPosition(createStatusTracker(name), resolveProjectionReport(name, undefined), {
      name,
      transport: store.transport,
      headers: undefined,
      timeoutMs: 1000,
      backoff: { initialDelayMs: 10, maxDelayMs: 10 },
      logger: log.logger,
    });
    report.status.state("running");
    report.status.applied(2n, 2);
    await report.letGo();
    await vi.advanceTimersByTimeAsync(5000);
    expect(store.received).toEqual([]);
    expect(log.lines.map((line) => [line.level, line.message])).toEqual([
      [
        "warn",
        expect.stringMatching(/^projection: not reported to the Event Store: its consumer id .* set reportPosition/),
      ],
    ]);
  });
});
