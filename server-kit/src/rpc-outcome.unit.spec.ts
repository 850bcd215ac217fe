import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { codeName, outcomeCode, whenStreamEnds } from "./rpc-outcome.js";

const live = new AbortController().signal;
const abortedWith = (reason: unknown) => {
  const controller = new AbortController();
  controller.abort(reason);
  return controller.signal;
};

describe("codeName", () => {
  it("spells codes as the Connect protocol does", () => {
    expect(codeName(undefined)).toBe("ok");
    expect(codeName(Code.InvalidArgument)).toBe("invalid_argument");
    expect(codeName(Code.DeadlineExceeded)).toBe("deadline_exceeded");
    expect(codeName(Code.Unauthenticated)).toBe("unauthenticated");
    expect(codeName(Code.FailedPrecondition)).toBe("failed_precondition");
  });
});

describe("outcomeCode", () => {
  it("is the code the client receives", () => {
    expect(outcomeCode(undefined, live, true)).toBeUndefined();
    expect(outcomeCode(new ConnectError("x", Code.NotFound), live, true)).toBe(Code.NotFound);
    expect(outcomeCode(new Error("bug"), live, true)).toBe(Code.Internal);
    expect(outcomeCode(new DOMException("gone", "AbortError"), live, true)).toBe(Code.Canceled);
  });

  it("takes a stream that stopped early without an error from its signal's reason", () => {
    expect(outcomeCode(undefined, abortedWith(new ConnectError("bye", Code.Unavailable)), false)).toBe(
      Code.Unavailable,
    );
    expect(outcomeCode(undefined, abortedWith(undefined), false)).toBe(Code.Canceled);
    expect(outcomeCode(undefined, live, false)).toBe(Code.Canceled);
  });
});

describe("whenStreamEnds", () => {
  async function* source(fail?: Error) {
    yield 1;
    yield 2;
    if (fail) throw fail;
  }

  it("passes every message through and reports once, after the last", async () => {
    const events: string[] = [];
    const stream = whenStreamEnds(
      source(),
      live,
      (code) => events.push(`end ${codeName(code)}`),
      () => events.push("start"),
    );
    for await (const message of stream) events.push(`message ${message}`);
    expect(events).toEqual(["start", "message 1", "message 2", "end ok"]);
  });

  it("reports the error a stream ends with, and a consumer that stops early as canceled", async () => {
    const codes: string[] = [];
    await expect(async () => {
      for await (const _ of whenStreamEnds(source(new ConnectError("x", Code.DataLoss)), live, (c) =>
        codes.push(codeName(c)),
      )) {
        // drain
      }
    }).rejects.toThrow("x");
    for await (const _ of whenStreamEnds(source(), live, (c) => codes.push(codeName(c)))) break;
    expect(codes).toEqual(["data_loss", "canceled"]);
  });

  it("neither starts nor reports a stream nobody reads", async () => {
    const events: string[] = [];
    const stream = whenStreamEnds(
      source(),
      live,
      () => events.push("end"),
      () => events.push("start"),
    );
    await stream.return(undefined);
    expect(events).toEqual([]);
  });
});
