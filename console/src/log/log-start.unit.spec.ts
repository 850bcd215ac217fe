import { describe, expect, it } from "vitest";
import { firstIdOf, parseLogId } from "./log-start.js";

describe("parseLogId", () => {
  it("takes a whole number of 1 or more that fits in 64 bits", () => {
    expect(parseLogId(" 42 ")).toEqual({ id: 42n });
    expect(parseLogId("18446744073709551615")).toEqual({ id: 18446744073709551615n });
  });

  it("says why anything else is not a log id", () => {
    expect(parseLogId("0")).toEqual({ problem: "log ids start at 1" });
    expect(parseLogId("-3")).toEqual({ problem: "a log id is a whole number, 1 or more" });
    expect(parseLogId("1e3")).toEqual({ problem: "a log id is a whole number, 1 or more" });
    expect(parseLogId("18446744073709551616")).toEqual({ problem: "a log id fits in 64 bits" });
  });
});

describe("firstIdOf", () => {
  const head = () => Promise.resolve(99n);

  it("starts the beginning at 1, the end after the head, and an id at that id", async () => {
    expect(await firstIdOf({ kind: "beginning" }, head)).toBe(1n);
    expect(await firstIdOf({ kind: "end" }, head)).toBe(100n);
    expect(await firstIdOf({ kind: "id", id: 7n }, head)).toBe(7n);
  });
});
