import { describe, expect, it } from "vitest";
import { createTransport } from "./transport.js";
import { resolveProjectionOptions, type ProjectionOptions } from "./projection-options.js";

const transport = createTransport({ baseUrl: "http://127.0.0.1:1", protocol: "connect" });
const base: ProjectionOptions<unknown> = { transport, name: "orders", handle: () => {} };

describe("resolveProjectionOptions", () => {
  it("fills in the documented defaults", () => {
    const o = resolveProjectionOptions(base);
    expect(o).toMatchObject({ name: "orders", batchSize: 500, lockRetryMs: 1000, statusIntervalMs: 5000 });
    expect(o.follow).toMatchObject({
      consumerId: "orders",
      selector: "",
      pipelineId: "",
      handlerRetries: 0,
      heartbeatTimeoutMs: 45_000,
      backoff: { initialDelayMs: 100, maxDelayMs: 10_000 },
    });
  });

  it("passes the log settings to the log follower", () => {
    const o = resolveProjectionOptions({
      ...base,
      selector: "Order.*",
      pipelineId: "Order",
      handlerRetries: 2,
      reconnect: { initialDelayMs: 5, maxDelayMs: 50 },
      heartbeatTimeoutMs: 0,
      callOptions: { headers: { "x-a": "b" }, timeoutMs: 300 },
    });
    expect(o.follow).toMatchObject({
      selector: "Order.*",
      pipelineId: "Order",
      handlerRetries: 2,
      backoff: { initialDelayMs: 5, maxDelayMs: 50 },
      heartbeatTimeoutMs: 0,
      headers: { "x-a": "b" },
      unaryTimeoutMs: 300,
    });
  });

  it.each([
    [{ name: "" }, /name must be 1–255 characters/],
    [{ name: "x".repeat(256) }, /name must be 1–255 characters/],
    [{ name: "a\u0000b" }, /without NUL/],
    [{ batchSize: 0 }, /batchSize must be an integer from 1/],
    [{ batchSize: 1.5 }, /batchSize/],
    [{ lockRetryMs: 0 }, /lockRetryMs/],
    [{ statusIntervalMs: Number.NaN }, /statusIntervalMs/],
    [{ handlerRetries: -1 }, /handlerRetries/],
  ])("refuses %o before anything connects", (change, message) => {
    expect(() => resolveProjectionOptions({ ...base, ...change })).toThrow(message);
  });

  it("refuses a missing handler", () => {
    expect(() => resolveProjectionOptions({ ...base, handle: undefined as never })).toThrow(TypeError);
  });
});
