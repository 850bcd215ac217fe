import { describe, expect, it } from "vitest";
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
});
