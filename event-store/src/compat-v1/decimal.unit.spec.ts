import { describe, expect, it } from "vitest";
import { ValidationError } from "../domain/errors.js";
import { parseDecimal, parseOptionalDecimal } from "./decimal.js";

describe("parseDecimal", () => {
  it("reads ASCII digits up to int64's maximum exactly", () => {
    expect(parseDecimal("0", "v")).toBe(0n);
    expect(parseDecimal("007", "v")).toBe(7n);
    expect(parseDecimal("9223372036854775807", "v")).toBe(9_223_372_036_854_775_807n);
  });

  it("rejects empty, signed, spaced, hex, exponent and too large values with ValidationError", () => {
    for (const text of ["", "-1", "+1", " 1", "1 ", "0x10", "1e3", "1.0", "9223372036854775808"]) {
      expect(() => parseDecimal(text, "v"), text).toThrow(ValidationError);
    }
  });

  it("takes an empty optional value as the given default", () => {
    expect(parseOptionalDecimal("", "from_id", 1n)).toBe(1n);
    expect(parseOptionalDecimal("12", "from_id", 1n)).toBe(12n);
  });
});
