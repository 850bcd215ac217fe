import { describe, expect, it } from "vitest";
import { LabelGuard, overflowLabelValue } from "./label-guard.js";

describe("LabelGuard", () => {
  it("keeps the first values as they are and folds every later new value into other", () => {
    let overflows = 0;
    const guard = new LabelGuard(2, () => overflows++);
    expect(["a", "b", "c", "a", "d", "b"].map((v) => guard.admit(v))).toEqual([
      "a",
      "b",
      overflowLabelValue,
      "a",
      overflowLabelValue,
      "b",
    ]);
    expect(guard.size).toBe(2);
    expect(overflows).toBe(2);
  });

  it("holds at most its limit of values however many distinct values arrive", () => {
    const guard = new LabelGuard(100);
    const labels = new Set<string>();
    for (let i = 0; i < 100_000; i++) labels.add(guard.admit(`random-${i}`));
    expect(guard.size).toBe(100);
    expect(labels.size).toBe(101);
    expect(labels.has(overflowLabelValue)).toBe(true);
  });

  it("refuses a limit below one", () => {
    expect(() => new LabelGuard(0)).toThrow(RangeError);
    expect(() => new LabelGuard(1.5)).toThrow(RangeError);
  });
});
