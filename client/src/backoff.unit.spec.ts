import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { backoffCeiling, backoffDelay, sleep } from "./backoff.js";

const settings = fc
  .tuple(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 100_000 }))
  .map(([initialDelayMs, extra]) => ({ initialDelayMs, maxDelayMs: initialDelayMs + extra }));

const draw = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

describe("backoffDelay", () => {
  it("stays within [0, min(max, initial · 2^attempt)) for any attempt and any random draw", () => {
    fc.assert(
      fc.property(settings, fc.integer({ min: -5, max: 100_000 }), draw, (s, attempt, r) => {
        const ceiling = backoffCeiling(attempt, s);
        const delay = backoffDelay(attempt, s, () => r);
        expect(Number.isInteger(delay)).toBe(true);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(Math.max(0, ceiling - 1));
        expect(ceiling).toBeLessThanOrEqual(s.maxDelayMs);
        expect(ceiling).toBe(Math.min(s.maxDelayMs, s.initialDelayMs * 2 ** Math.min(Math.max(attempt, 0), 52)));
      }),
    );
  });

  it("doubles the ceiling per attempt up to the cap: 100, 200, 400, … 10 000", () => {
    const s = { initialDelayMs: 100, maxDelayMs: 10_000 };
    expect([0, 1, 2, 3, 6, 7, 50, 5000].map((a) => backoffCeiling(a, s))).toEqual([
      100, 200, 400, 800, 6400, 10_000, 10_000, 10_000,
    ]);
  });

  it("spreads delays over the whole window (full jitter), not around the ceiling", () => {
    const s = { initialDelayMs: 100, maxDelayMs: 10_000 };
    const delays = Array.from({ length: 2000 }, () => backoffDelay(3, s));
    expect(Math.min(...delays)).toBeLessThan(80);
    expect(Math.max(...delays)).toBeGreaterThan(720);
    const mean = delays.reduce((a, b) => a + b, 0) / delays.length;
    expect(mean).toBeGreaterThan(340);
    expect(mean).toBeLessThan(460);
  });
});

describe("sleep", () => {
  it("resolves true after the delay", async () => {
    const started = Date.now();
    expect(await sleep(20)).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(15);
  });

  it("resolves false as soon as the signal aborts, and at once for an aborted signal", async () => {
    const controller = new AbortController();
    const started = Date.now();
    const waiting = sleep(60_000, controller.signal);
    setTimeout(() => controller.abort(), 10);
    expect(await waiting).toBe(false);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(await sleep(60_000, AbortSignal.abort())).toBe(false);
  });
});
