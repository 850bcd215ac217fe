import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { CellCounter, CellGauge, CellHistogram, renderMetrics } from "./cell-metrics.js";
import { parseExposition, sampleValue } from "@eskit/test-kit/exposition.js";

async function scrape(registry: Registry) {
  return parseExposition(await renderMetrics(registry));
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
    expect(await renderMetrics(registry)).toContain("# TYPE t_calls_total counter\n");
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

describe("cell metrics through prom-client's public API", () => {
  it("are prom-client's own Counter and Gauge, found in the registry by name", () => {
    const registry = new Registry();
    const counter = new CellCounter({ name: "t_public_total", help: "x", labelNames: ["k"], registry });
    const gauge = new CellGauge({ name: "t_public_open", help: "x", labelNames: ["k"], registry });
    expect(registry.getSingleMetric("t_public_total")).toBe(counter);
    expect(registry.getSingleMetric("t_public_open")).toBe(gauge);
  });

  it("export a series at zero once its cell exists, and a counter scraped twice is not counted twice", async () => {
    const registry = new Registry();
    const counter = new CellCounter({ name: "t_twice_total", help: "x", labelNames: ["k"], registry });
    counter.cell({ k: "idle" });
    counter.cell({ k: "busy" }).inc(4);
    await renderMetrics(registry);
    const samples = await scrape(registry);
    expect(sampleValue(samples, "t_twice_total", { k: "idle" })).toBe(0);
    expect(sampleValue(samples, "t_twice_total", { k: "busy" })).toBe(4);
  });

  it("escape a histogram's label values and help as the text format requires", async () => {
    const registry = new Registry();
    const histogram = new CellHistogram({
      name: "t_escaped",
      help: 'a \\ help\nline with "quotes"',
      labelNames: ["k"],
      buckets: [1],
      registry,
    });
    histogram.cell({ k: 'a "quoted" \\ value\nwith a newline' }).observe(0.5);
    const page = await renderMetrics(registry);
    expect(page).toContain('# HELP t_escaped a \\\\ help\\nline with "quotes"\n');
    expect(page).toContain('t_escaped_bucket{k="a \\"quoted\\" \\\\ value\\nwith a newline",le="1"} 1\n');
    expect(sampleValue(parseExposition(page), "t_escaped_count", { k: 'a "quoted" \\ value\nwith a newline' })).toBe(1);
  });

  it("refuse a histogram whose name a prom-client metric of the registry has, and the other way round", () => {
    const registry = new Registry();
    new CellCounter({ name: "t_taken", help: "x", labelNames: [], registry });
    expect(() => new CellHistogram({ name: "t_taken", help: "x", labelNames: [], buckets: [1], registry })).toThrow(
      /already been registered/,
    );
    new CellHistogram({ name: "t_hist", help: "x", labelNames: [], buckets: [1], registry });
    expect(() => new CellHistogram({ name: "t_hist", help: "x", labelNames: [], buckets: [1], registry })).toThrow(
      /already been registered/,
    );
  });

  it("put the histograms after the registry's own metrics, each with its HELP and TYPE", async () => {
    const registry = new Registry();
    new CellGauge({ name: "t_first", help: "first", labelNames: [], registry }).cell({}).inc();
    new CellHistogram({ name: "t_second", help: "second", labelNames: [], buckets: [1], registry }).cell({}).observe(2);
    const page = await renderMetrics(registry);
    expect(page.indexOf("# TYPE t_first gauge")).toBeLessThan(page.indexOf("# TYPE t_second histogram"));
    const samples = parseExposition(page);
    expect(sampleValue(samples, "t_first")).toBe(1);
    expect(sampleValue(samples, "t_second_bucket", { le: "+Inf" })).toBe(1);
    expect(sampleValue(samples, "t_second_sum")).toBe(2);
  });

  it("a histogram's reset zeroes its series", async () => {
    const registry = new Registry();
    const histogram = new CellHistogram({ name: "t_hreset", help: "x", labelNames: [], buckets: [1], registry });
    const cell = histogram.cell({});
    cell.observe(3);
    histogram.reset();
    cell.observe(0.5);
    const samples = await scrape(registry);
    expect(sampleValue(samples, "t_hreset_bucket", { le: "1" })).toBe(1);
    expect(sampleValue(samples, "t_hreset_count")).toBe(1);
  });
});
