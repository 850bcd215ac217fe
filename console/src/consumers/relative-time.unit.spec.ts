import { describe, expect, it } from "vitest";
import { timeAgo } from "./relative-time.js";

describe("timeAgo", () => {
  const now = Date.parse("2025-06-01T12:00:00.000Z");
  const ago = (ms: number) => timeAgo(new Date(now - ms), now);

  it("counts whole seconds up to two minutes", () => {
    expect(ago(0)).toBe("0 s ago");
    expect(ago(999)).toBe("0 s ago");
    expect(ago(42_500)).toBe("42 s ago");
    expect(ago(119_999)).toBe("119 s ago");
  });

  it("switches to minutes, hours and days as the age grows", () => {
    expect(ago(120_000)).toBe("2 min ago");
    expect(ago(119 * 60_000)).toBe("119 min ago");
    expect(ago(2 * 3_600_000)).toBe("2 h ago");
    expect(ago(47 * 3_600_000)).toBe("47 h ago");
    expect(ago(12 * 86_400_000)).toBe("12 d ago");
  });

  it("reads a time ahead of the browser's clock as 0 s ago", () => {
    expect(ago(-5_000)).toBe("0 s ago");
  });
});
