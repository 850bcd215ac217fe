import { describe, expect, it } from "vitest";
import { ValidationError } from "../domain/errors.js";
import { formatV1Version, parseV1Version } from "./v1-version.js";

describe("v1 versions", () => {
  it("reads an empty version as 0 (not set)", () => {
    expect(parseV1Version("")).toBe(0n);
  });

  it("reads decimal digits up to int64 exactly", () => {
    expect(parseV1Version("1")).toBe(1n);
    expect(parseV1Version("0042")).toBe(42n);
    expect(parseV1Version("9223372036854775807")).toBe(9223372036854775807n);
  });

  it.each(["-1", "+1", " 1", "1 ", "1.0", "1e3", "0x10", "abc", "9223372036854775808", "12345678901234567890"])(
    "rejects %j as a validation error",
    (text) => {
      expect(() => parseV1Version(text)).toThrow(ValidationError);
    },
  );

  it("writes versions in decimal", () => {
    expect(formatV1Version(0n)).toBe("0");
    expect(formatV1Version(9223372036854775807n)).toBe("9223372036854775807");
  });
});
