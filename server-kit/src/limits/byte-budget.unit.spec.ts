import { describe, expect, it } from "vitest";
import { ByteBudget } from "./byte-budget.js";

describe("ByteBudget", () => {
  it("grants at once what is free, makes later takers wait in order, and never grants more than its total", async () => {
    const budget = new ByteBudget(100);
    const never = new AbortController().signal;
    expect(await budget.take(60, never)).toBe(60);
    const granted: string[] = [];
    const big = budget.take(50, never).then((n) => granted.push(`big ${n}`));
    const small = budget.take(10, never).then((n) => granted.push(`small ${n}`));
    await new Promise((resolve) => setTimeout(resolve, 10));
    // 40 are free, but the small taker waits behind the big one: no starvation of large requests.
    expect(granted).toEqual([]);
    expect(budget.used).toBe(60);
    budget.give(60);
    await Promise.all([big, small]);
    expect(granted).toEqual(["big 50", "small 10"]);
    expect(budget.used).toBe(60);
    // A request larger than the total is cut down to it, so it can be granted at all.
    budget.give(60);
    expect(await budget.take(500, never)).toBe(100);
  });

  it("gives nothing to a taker whose signal aborts while it waits, and lets those behind it through", async () => {
    const budget = new ByteBudget(100);
    const never = new AbortController().signal;
    await budget.take(90, never);
    const abort = new AbortController();
    const leaving = budget.take(50, abort.signal);
    const behind = budget.take(10, never);
    abort.abort();
    expect(await leaving).toBe(0);
    expect(await behind).toBe(10);
    expect(budget.used).toBe(100);
    expect(await budget.take(1, AbortSignal.abort())).toBe(0);
  });
});
