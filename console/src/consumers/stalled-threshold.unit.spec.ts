import { describe, expect, it } from "vitest";
import { defaultStalledAfterSeconds, stalledThresholdOf } from "./stalled-threshold.js";

describe("stalledThresholdOf", () => {
  it("is 60 seconds unless the address says otherwise", () => {
    expect(defaultStalledAfterSeconds).toBe(60);
    expect(stalledThresholdOf("")).toEqual({ seconds: 60, fromAddress: false });
    expect(stalledThresholdOf("?other=1")).toEqual({ seconds: 60, fromAddress: false });
  });

  it("takes whole seconds from ?stalledAfter=, with or without the question mark", () => {
    expect(stalledThresholdOf("?stalledAfter=5")).toEqual({ seconds: 5, fromAddress: true });
    expect(stalledThresholdOf("stalledAfter=0&x=y")).toEqual({ seconds: 0, fromAddress: true });
  });

  it("ignores a value that is not whole seconds", () => {
    for (const search of ["?stalledAfter=", "?stalledAfter=-1", "?stalledAfter=1.5", "?stalledAfter=soon"]) {
      expect(stalledThresholdOf(search)).toEqual({ seconds: 60, fromAddress: false });
    }
  });
});
