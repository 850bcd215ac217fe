import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { boundedError, maxErrorMessageLength } from "./bounded-errors.js";

describe("boundedError", () => {
  it("keeps a short message as it is", () => {
    const error = new ConnectError("selector is invalid", Code.InvalidArgument);
    expect(boundedError(error)).toBe(error);
  });

  it("cuts a message quoting megabytes of input to maxErrorMessageLength, keeping code and cause", () => {
    const cause = new Error("root");
    const error = new ConnectError(
      `selector "${"y".repeat(5_000_000)}" is invalid`,
      Code.InvalidArgument,
      {},
      [],
      cause,
    );
    const bounded = boundedError(error);
    expect(bounded.rawMessage).toHaveLength(maxErrorMessageLength);
    expect(bounded.rawMessage.startsWith('selector "yyy')).toBe(true);
    expect(bounded.rawMessage.endsWith("…")).toBe(true);
    expect(bounded.code).toBe(Code.InvalidArgument);
    expect(bounded.cause).toBe(cause);
  });
});
