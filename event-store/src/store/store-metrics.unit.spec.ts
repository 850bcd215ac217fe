import { parseExposition, sampleValue } from "@eskit/test-kit/exposition.js";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import type { Database } from "../storage/database.js";
import type { LogTail } from "./log-tail.js";
import { registerStoreMetrics } from "./store-metrics.js";
import { renderMetrics } from "@eskit/server-kit/metrics/cell-metrics.js";

/** A database whose only query (the head) answers `head()`: a value, or a promise that never settles. */
function fakeDatabase(head: () => Promise<string | null>): Database {
  return { query: async () => [{ head: await head() }] } as unknown as Database;
}

const tailAt = (head: bigint) => ({ head }) as unknown as LogTail;

async function scrape(registry: Registry) {
  return parseExposition(await renderMetrics(registry));
}

describe("store metrics", () => {
  it("report the log head read from the database at scrape time", async () => {
    let head: string | null = null;
    const registry = new Registry();
    registerStoreMetrics(registry, { database: fakeDatabase(async () => head), tail: tailAt(0n) });
    expect(sampleValue(await scrape(registry), "eskit_log_head_id")).toBe(0);
    head = "42";
    expect(sampleValue(await scrape(registry), "eskit_log_head_id")).toBe(42);
  });

  it("do not hang a scrape on a database that does not answer, and report the highest head known", async () => {
    let answer: () => Promise<string | null> = async () => "42";
    const errors: unknown[] = [];
    const registry = new Registry();
    const tail = { head: 40n };
    registerStoreMetrics(registry, {
      database: fakeDatabase(() => answer()),
      tail: tail as unknown as LogTail,
      headTimeoutMs: 50,
      onHeadError: (error) => errors.push(error),
    });
    expect(sampleValue(await scrape(registry), "eskit_log_head_id")).toBe(42);
    answer = () => new Promise(() => {});
    const started = performance.now();
    expect(sampleValue(await scrape(registry), "eskit_log_head_id")).toBe(42);
    expect(performance.now() - started).toBeLessThan(1000);
    tail.head = 45n;
    expect(sampleValue(await scrape(registry), "eskit_log_head_id")).toBe(45);
    expect(errors).toHaveLength(2);
    expect(String(errors[0])).toContain("no answer from the database within 50 ms");
  });

  it("observe each commit's events and requests, and skip batches that wrote nothing", async () => {
    const registry = new Registry();
    const observe = registerStoreMetrics(registry, { database: fakeDatabase(async () => "0"), tail: tailAt(0n) });
    observe(3, 7);
    observe(0, 0);
    observe(1, 1);
    const samples = await scrape(registry);
    expect(sampleValue(samples, "eskit_append_batch_events_sum")).toBe(8);
    expect(sampleValue(samples, "eskit_append_batch_events_count")).toBe(2);
    expect(sampleValue(samples, "eskit_append_batch_events_bucket", { le: "5" })).toBe(1);
    expect(sampleValue(samples, "eskit_append_batch_events_bucket", { le: "10" })).toBe(2);
    expect(sampleValue(samples, "eskit_append_batch_requests_sum")).toBe(4);
    expect(sampleValue(samples, "eskit_append_batch_requests_count")).toBe(2);
    expect(sampleValue(samples, "eskit_append_batch_requests_bucket", { le: "1" })).toBe(1);
  });
});
