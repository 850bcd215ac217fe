import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { VersionTakenError } from "../domain/errors.js";
import { appendFailure } from "./domain-conversion.js";

describe("the gateway's reading of Append's failures", () => {
  it("turns aborted on Append into VersionTakenError with the Event Store's message", () => {
    const aborted = new ConnectError('originator "u1" is at version 2: version 2 was already written', Code.Aborted);
    const failure = appendFailure(aborted);
    expect(failure).toBeInstanceOf(VersionTakenError);
    expect((failure as VersionTakenError).message).toBe(aborted.rawMessage);
    expect((failure as VersionTakenError).cause).toBe(aborted);
  });

  it("passes every other failure through as it is", () => {
    for (const code of [Code.Unavailable, Code.DeadlineExceeded, Code.Internal, Code.FailedPrecondition]) {
      const error = new ConnectError("no", code);
      expect(appendFailure(error)).toBe(error);
    }
    const plain = new Error("aborted");
    expect(appendFailure(plain)).toBe(plain);
  });
});
