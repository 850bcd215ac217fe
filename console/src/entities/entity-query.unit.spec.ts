import { describe, expect, it } from "vitest";
import { entityPath, originatorIdFromParam, parseFromVersion } from "./entity-query.js";

describe("entityPath and originatorIdFromParam", () => {
  it("round-trip ids with slashes, question marks, spaces and non-ASCII letters", () => {
    for (const id of ["acme-1", "acme/42", "what?", "a b#c", "Zoë%"]) {
      const path = entityPath(id);
      expect(path.startsWith("/entities/")).toBe(true);
      expect(path.slice("/entities/".length)).not.toMatch(/[/?#\s]/);
      expect(originatorIdFromParam(path.slice("/entities/".length))).toBe(id);
    }
  });

  it("reads no id from an absent or empty parameter", () => {
    expect(originatorIdFromParam(undefined)).toBeUndefined();
    expect(originatorIdFromParam("")).toBeUndefined();
  });

  it("keeps a malformed escape as written instead of failing", () => {
    expect(originatorIdFromParam("100%")).toBe("100%");
  });
});

describe("parseFromVersion", () => {
  it("reads an empty field as the first version", () => {
    expect(parseFromVersion("  ")).toEqual({ version: 1n });
  });

  it("takes a whole number of 1 or more that fits in 64 bits", () => {
    expect(parseFromVersion(" 250 ")).toEqual({ version: 250n });
    expect(parseFromVersion("18446744073709551615")).toEqual({ version: 18446744073709551615n });
  });

  it("says why anything else is not a version", () => {
    expect(parseFromVersion("0")).toEqual({ problem: "versions start at 1" });
    expect(parseFromVersion("-2")).toEqual({ problem: "a version is a whole number, 1 or more" });
    expect(parseFromVersion("2.5")).toEqual({ problem: "a version is a whole number, 1 or more" });
    expect(parseFromVersion("18446744073709551616")).toEqual({ problem: "a version fits in 64 bits" });
  });
});
