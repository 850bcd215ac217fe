import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RateMeter } from "./rate-meter.js";

describe("RateMeter", () => {
  it("reports a steady arrival rate as that rate", () => {
    const meter = new RateMeter(2000, 8);
    // 2,000 items a second for 3 seconds, in 10 ms steps of 20.
    for (let t = 0; t < 3000; t += 10) meter.add(20, t);
    expect(meter.perSecond(2999)).toBeCloseTo(2000, -2);
  });

  it("falls to zero once a window has passed with nothing new", () => {
    const meter = new RateMeter(1000, 4);
    meter.add(500, 100);
    expect(meter.perSecond(100)).toBe(500);
    expect(meter.perSecond(1200)).toBe(0);
  });

  it("counts exactly the items that arrived in the buckets of the window", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 100 })), { maxLength: 100 }),
        fc.integer({ min: 0, max: 12_000 }),
        (arrivals, at) => {
          const meter = new RateMeter(1000, 4);
          const sorted = [...arrivals].sort((a, b) => a[0] - b[0]).filter(([t]) => t <= at);
          for (const [t, n] of sorted) meter.add(n, t);
          // The window is the 4 buckets of 250 ms that end with the one holding `at`.
          const first = (Math.floor(at / 250) - 3) * 250;
          const expected = sorted.filter(([t]) => t >= first).reduce((sum, [, n]) => sum + n, 0);
          expect(meter.perSecond(at)).toBe(expected);
        },
      ),
    );
  });
});
