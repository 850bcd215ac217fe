import { describe, expect, it } from "vitest";
import { instantFromOccuredOn, occuredOnFromInstant } from "./occured-on.js";

describe("v1 occured_on", () => {
  it("is Unix seconds below 1e12", () => {
    expect(instantFromOccuredOn(1_700_000_000n)).toEqual({ seconds: 1_700_000_000n, nanos: 0 });
    expect(instantFromOccuredOn(-5n)).toEqual({ seconds: -5n, nanos: 0 });
  });

  it("is Unix milliseconds from 1e12 on, in both directions", () => {
    expect(instantFromOccuredOn(1_700_000_000_123n)).toEqual({ seconds: 1_700_000_000n, nanos: 123_000_000 });
    expect(instantFromOccuredOn(-1_000_000_000_001n)).toEqual({ seconds: -1_000_000_001n, nanos: 999_000_000 });
  });

  it("is read back from a stored time as whole seconds", () => {
    expect(occuredOnFromInstant({ seconds: 1_600_000_000n, nanos: 999_000_000 })).toBe(1_600_000_000n);
  });
});
