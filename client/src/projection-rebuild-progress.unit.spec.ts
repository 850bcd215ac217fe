import { describe, expect, it } from "vitest";
import { createProgressMeter } from "./projection-rebuild-progress.js";
import { createStatusTracker } from "./projection-status.js";

describe("a rebuild's progress meter", () => {
  it("measures entries/s and the time left to the head over its window", () => {
    let now = 0;
    const meter = createProgressMeter(30_000, () => now);
    const status = createStatusTracker("orders#rebuild");
    status.head(10_000n);
    meter.sample(status.snapshot(), true);
    expect(meter.measure(status.snapshot())).toEqual({ entriesPerSecond: 0, etaSeconds: undefined });

    // 10 s: 500 entries applied, the position 2000 ids further (the selector skips three ids in four).
    now = 10_000;
    status.applied(2000n, 500);
    meter.sample(status.snapshot(), true);
    expect(meter.measure(status.snapshot())).toEqual({ entriesPerSecond: 50, etaSeconds: 40 });

    // Past the window, the oldest sample kept is the newest one older than it: the pace of the last 30 s or so.
    for (let t = 15_000; t <= 50_000; t += 5000) {
      now = t;
      status.applied(status.snapshot().position + 100n, 10);
      meter.sample(status.snapshot(), true);
    }
    const { entriesPerSecond, etaSeconds } = meter.measure(status.snapshot());
    expect(entriesPerSecond).toBeCloseTo(2, 5);
    expect(etaSeconds).toBeCloseTo(Number(10_000n - status.snapshot().position) / 20, 5);
  });

  it("says 0 s left at the head, and forgets its samples when the replay stops", () => {
    let now = 0;
    const meter = createProgressMeter(30_000, () => now);
    const status = createStatusTracker("orders#rebuild");
    status.head(100n);
    meter.sample(status.snapshot(), true);
    now = 1000;
    status.applied(100n, 100);
    expect(meter.measure(status.snapshot())).toEqual({ entriesPerSecond: 100, etaSeconds: 0 });
    meter.sample(status.snapshot(), false);
    expect(meter.measure(status.snapshot())).toEqual({ entriesPerSecond: 0, etaSeconds: 0 });
  });

  it("has no estimate while the position does not move", () => {
    let now = 0;
    const meter = createProgressMeter(30_000, () => now);
    const status = createStatusTracker("orders#rebuild");
    status.head(100n);
    meter.sample(status.snapshot(), true);
    now = 5000;
    expect(meter.measure(status.snapshot())).toEqual({ entriesPerSecond: 0, etaSeconds: undefined });
  });
});
