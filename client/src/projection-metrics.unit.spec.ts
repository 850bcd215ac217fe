import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { parseExposition } from "@eskit/test-kit/exposition.js";
import { expectPromtoolClean } from "@eskit/test-kit/metrics.js";
import { itWithTools, promtool } from "@eskit/test-kit/system-tools.js";
import { registerProjectionMetrics } from "./projection-metrics.js";
import type { ProjectionStatus } from "./projection-status.js";

const status = (change: Partial<ProjectionStatus>): ProjectionStatus => ({
  name: "orders",
  state: "running",
  position: 40n,
  head: 45n,
  lag: 5n,
  applied: 40,
  batches: 3,
  retries: 0,
  lastError: undefined,
  ...change,
});

/** The samples of `name`, as `labels → value`. */
async function samples(registry: Registry, name: string): Promise<Array<[Record<string, string>, number]>> {
  return parseExposition(await registry.metrics())
    .filter((sample) => sample.name === name)
    .map((sample) => [{ ...sample.labels }, sample.value]);
}

describe("registerProjectionMetrics", () => {
  it("reads each projection's status at scrape time", async () => {
    const registry = new Registry();
    let current = status({});
    const projections = [{ status: () => current }];
    registerProjectionMetrics(registry, projections);
    expect(await samples(registry, "eskit_projection_position")).toEqual([[{ projection: "orders" }, 40]]);
    expect(await samples(registry, "eskit_projection_lag_events")).toEqual([[{ projection: "orders" }, 5]]);
    expect(await samples(registry, "eskit_projection_applied_events_total")).toEqual([[{ projection: "orders" }, 40]]);

    current = status({ position: 45n, lag: 0n, applied: 45, retries: 2 });
    projections.push({
      status: () => status({ name: "customers", state: "waiting", position: 7n, head: 0n, lag: 0n }),
    });
    expect(await samples(registry, "eskit_projection_position")).toEqual([
      [{ projection: "orders" }, 45],
      [{ projection: "customers" }, 7],
    ]);
    // The head of a waiting instance is not known yet: no lag rather than a made-up 0.
    expect(await samples(registry, "eskit_projection_lag_events")).toEqual([[{ projection: "orders" }, 0]]);
    expect(await samples(registry, "eskit_projection_retries_total")).toEqual([
      [{ projection: "orders" }, 2],
      [{ projection: "customers" }, 0],
    ]);
  });

  it("marks the current state with 1 and every other with 0", async () => {
    const registry = new Registry();
    registerProjectionMetrics(registry, [{ status: () => status({ state: "waiting" }) }]);
    expect(await samples(registry, "eskit_projection_state")).toEqual([
      [{ projection: "orders", state: "starting" }, 0],
      [{ projection: "orders", state: "waiting" }, 1],
      [{ projection: "orders", state: "running" }, 0],
      [{ projection: "orders", state: "stopped" }, 0],
      [{ projection: "orders", state: "failed" }, 0],
    ]);
  });

  it("exposes the entry a failed projection stopped at, and nothing for a retried error", async () => {
    const registry = new Registry();
    const at = new Date();
    let current = status({ lastError: { message: "lost", entryId: 41n, at, transient: true }, retries: 1 });
    registerProjectionMetrics(registry, [{ status: () => current }]);
    expect(await samples(registry, "eskit_projection_failed_entry_id")).toEqual([]);
    current = status({ state: "failed", lastError: { message: "boom", entryId: 41n, at, transient: false } });
    expect(await samples(registry, "eskit_projection_failed_entry_id")).toEqual([[{ projection: "orders" }, 41]]);
  });

  itWithTools([promtool], "passes promtool's checks", async () => {
    const registry = new Registry();
    registerProjectionMetrics(registry, [
      {
        status: () =>
          status({ state: "failed", lastError: { message: "x", entryId: 3n, at: new Date(), transient: false } }),
      },
    ]);
    await expectPromtoolClean(await registry.metrics());
  });
});
