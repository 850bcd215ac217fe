import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { CellCounter, CellGauge, CellHistogram } from "./cell-metrics.js";
import { parseExposition, sampleValue } from "@eskit/test-kit/exposition.js";

async function scrape(registry: Registry) {
  return parseExposition(await registry.metrics());
}

describe("cell metrics", () => {
  it("export a counter cell's exact total under its labels", async () => {
    const registry = new Registry();
    const counter = new CellCounter({ name: "t_calls_total", help: "calls", labelNames: ["method", "code"], registry });
    const ok = counter.cell({ method: "Get", code: "ok" });
    ok.inc();
    ok.inc(2);
    counter.cell({ method: "Get", code: "not_found" }).inc();
    expect(counter.cell({ method: "Get", code: "ok" })).toBe(ok);
    const samples = await scrape(registry);
    expect(sampleValue(samples, "t_calls_total", { method: "Get", code: "ok" })).toBe(3);
    expect(sampleValue(samples, "t_calls_total", { method: "Get", code: "not_found" })).toBe(1);
    expect(await registry.metrics()).toContain("# TYPE t_calls_total counter\n");
  });

  it("export a gauge cell going up and down", async () => {
    const registry = new Registry();
    const open = new CellGauge({ name: "t_open", help: "open", labelNames: ["method"], registry }).cell({
      method: "Watch",
    });
    open.inc();
    open.inc();
    open.dec();
    expect(sampleValue(await scrape(registry), "t_open", { method: "Watch" })).toBe(1);
  });

  it("export a histogram with cumulative buckets, +Inf, sum and count", async () => {
    const registry = new Registry();
    const histogram = new CellHistogram({
      name: "t_size",
      help: "sizes",
      labelNames: [],
      buckets: [1, 10, 100],
      registry,
    });
    const cell = histogram.cell({});
    for (const value of [1, 2, 10, 11, 500]) cell.observe(value);
    const samples = await scrape(registry);
    expect(samples.filter((s) => s.name === "t_size_bucket").map((s) => [s.labels["le"], s.value])).toEqual([
      ["1", 1],
      ["10", 3],
      ["100", 4],
      ["+Inf", 5],
    ]);
    expect(sampleValue(samples, "t_size_sum")).toBe(524);
    expect(sampleValue(samples, "t_size_count")).toBe(5);
  });

  it("reset zeroes the series and keeps the cells handed out working", async () => {
    const registry = new Registry();
    const counter = new CellCounter({ name: "t_reset_total", help: "x", labelNames: ["k"], registry });
    const cell = counter.cell({ k: "a" });
    cell.inc(5);
    registry.resetMetrics();
    cell.inc();
    expect(sampleValue(await scrape(registry), "t_reset_total", { k: "a" })).toBe(1);
  });

  it("refuse a second metric of the same name in one registry, and unordered buckets", () => {
    const registry = new Registry();
    new CellCounter({ name: "t_dup_total", help: "x", labelNames: [], registry });
    expect(() => new CellCounter({ name: "t_dup_total", help: "x", labelNames: [], registry })).toThrow(
      /already been registered/,
    );
    expect(
      () => new CellHistogram({ name: "t_bad", help: "x", labelNames: [], buckets: [2, 1], registry: new Registry() }),
    ).toThrow(/strictly increasing/);
  });
});
