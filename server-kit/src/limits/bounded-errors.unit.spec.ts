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

describe("boundedError and Unicode", () => {
  const loneHigh = "\ud870";
  const pair = "\u{2c19b}";

  it("replaces a lone surrogate (as V8's JSON.parse error names it) with U+FFFD, so gRPC can percent-encode it", () => {
    let message = "";
    try {
      JSON.parse(`\t${pair}`);
    } catch (error) {
      message = `payload is not valid JSON: ${(error as Error).message}`;
    }
    expect(message).toContain(loneHigh);
    expect(() => encodeURIComponent(message)).toThrow(URIError);
    const bounded = boundedError(new ConnectError(message, Code.InvalidArgument));
    expect(() => encodeURIComponent(bounded.rawMessage)).not.toThrow();
    expect(bounded.rawMessage).toContain("\ufffd");
    expect(bounded.rawMessage).toContain(pair);
    expect(bounded.code).toBe(Code.InvalidArgument);
  });

  it("never cuts a long message inside a surrogate pair", () => {
    for (let prefix = 0; prefix < 4; prefix++) {
      const error = new ConnectError("a".repeat(prefix) + pair.repeat(maxErrorMessageLength), Code.InvalidArgument);
      const bounded = boundedError(error);
      expect(bounded.rawMessage.length).toBeLessThanOrEqual(maxErrorMessageLength);
      expect(() => encodeURIComponent(bounded.rawMessage)).not.toThrow();
    }
  });
});
