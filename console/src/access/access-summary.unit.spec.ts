import { describe, expect, it } from "vitest";
import { summarizeAccess } from "./access-summary.js";

describe("summarizeAccess", () => {
  it("says a full token may read and write", () => {
    expect(summarizeAccess({ kind: "write" })).toEqual({
      label: "read and write",
      tone: "ok",
      detail: "every call is allowed",
    });
  });

  it("says a read token is read-only and why writes are disabled", () => {
    expect(summarizeAccess({ kind: "read", reason: "the token may only read" })).toEqual({
      label: "read-only",
      tone: "warn",
      detail: "writes disabled: the token may only read",
    });
  });

  it("shows a refusal with the service's message", () => {
    expect(summarizeAccess({ kind: "refused", reason: "the bearer token is not valid here" })).toEqual({
      label: "refused",
      tone: "danger",
      detail: "the bearer token is not valid here",
    });
  });

  it("shows an unreachable service as unavailable with its code and message", () => {
    expect(summarizeAccess({ kind: "unreachable", reason: "Unavailable: connection refused" })).toEqual({
      label: "unavailable",
      tone: "danger",
      detail: "Unavailable: connection refused",
    });
  });

  it("says it is still checking before the services answer", () => {
    expect(summarizeAccess(undefined)).toEqual({ label: "checking", tone: "neutral", detail: "asking the service…" });
  });
});
