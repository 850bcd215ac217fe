import { describe, expect, it } from "vitest";
import { loadMallocTrim } from "./malloc-trim.js";
import { streamEndReclaimer } from "./reclaim-after-streams.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("streamEndReclaimer", () => {
  it("collects once after a crowd of streams ended and went quiet, not for a few, and not twice within its interval", async () => {
    const collections: number[] = [];
    const ended = streamEndReclaimer({
      minEnded: 3,
      quietMs: 30,
      minIntervalMs: 60_000,
      onCollected: (count) => collections.push(count),
    });
    ended();
    ended();
    await sleep(80);
    expect(collections).toEqual([]);
    ended();
    // Still ending: no collection while the crowd leaves.
    await sleep(10);
    ended();
    expect(collections).toEqual([]);
    await sleep(80);
    expect(collections).toEqual([4]);
    for (let i = 0; i < 5; i++) ended();
    await sleep(80);
    expect(collections).toEqual([4]);
  });

  it("trims the C heap after its second collection, where the C library can", async () => {
    const trims: { before: number; after: number }[] = [];
    const ended = streamEndReclaimer({
      minEnded: 1,
      quietMs: 10,
      minIntervalMs: 0,
      onTrimmed: (before, after) => trims.push({ before, after }),
    });
    ended();
    await sleep(1000);
    expect(trims).toEqual([]);
    await sleep(3000);
    if ((await loadMallocTrim()) === undefined) return expect(trims).toEqual([]);
    expect(trims).toHaveLength(1);
    expect(trims[0]!.before).toBeGreaterThan(0);
    expect(trims[0]!.after).toBeGreaterThan(0);
  });
});
