import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { ConnectError } from "@connectrpc/connect";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { connectErrorFromH2ResetCode, connectErrorFromNodeReason } from "./node-h2-errors.js";

/** connect-node's own node-error.js, which its package does not export: loaded from its file. */
async function original(): Promise<{
  connectErrorFromNodeReason(reason: unknown): ConnectError;
  connectErrorFromH2ResetCode(rstCode: number): ConnectError | undefined;
}> {
  const entry = createRequire(import.meta.url).resolve("@connectrpc/connect-node");
  const esm = join(dirname(entry), "..", "esm", "node-error.js");
  return (await import(pathToFileURL(esm).href)) as never;
}

const view = (e: ConnectError | undefined) => (e === undefined ? undefined : { code: e.code, message: e.rawMessage });

const nodeCodes = [
  "ERR_STREAM_WRITE_AFTER_END",
  "ERR_STREAM_DESTROYED",
  "ERR_HTTP2_INVALID_STREAM",
  "ECONNRESET",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ECONNREFUSED",
  "EPIPE",
  "ERR_HTTP2_STREAM_ERROR",
];

/** Errors as Node and fetch make them: a `code`, a `cause` chain, AbortError and TimeoutError names, non-errors. */
const reasons = fc.letrec<{ reason: unknown }>((tie) => ({
  reason: fc.oneof(
    { depthSize: "small" },
    fc.string(),
    fc.constant(undefined),
    fc
      .record({
        message: fc.string(),
        name: fc.constantFrom("Error", "AbortError", "TimeoutError", "TypeError"),
        code: fc.option(fc.constantFrom(...nodeCodes), { nil: undefined }),
        cause: fc.option(tie("reason"), { nil: undefined }),
        connect: fc.boolean(),
      })
      .map(({ message, name, code, cause, connect }) => {
        if (connect) return new ConnectError(message, 5, undefined, undefined, cause);
        const error = new Error(message, cause === undefined ? undefined : { cause });
        error.name = name;
        if (code !== undefined) Object.assign(error, { code });
        return error;
      }),
  ),
}));

describe("node-h2-errors", () => {
  it("maps every HTTP/2 reset code as connect-node does", async () => {
    const theirs = await original();
    for (let rstCode = 0; rstCode <= 16; rstCode++) {
      const [mine, expected] = [connectErrorFromH2ResetCode(rstCode), theirs.connectErrorFromH2ResetCode(rstCode)];
      expect({ rstCode, error: view(mine) }).toEqual({ rstCode, error: view(expected) });
    }
  });

  it("maps Node's errors, their causes and non-errors as connect-node does", async () => {
    const theirs = await original();
    fc.assert(
      fc.property(reasons.reason, (reason) => {
        const [mine, expected] = [connectErrorFromNodeReason(reason), theirs.connectErrorFromNodeReason(reason)];
        expect({ code: mine.code, message: mine.rawMessage, cause: mine.cause, same: mine === reason }).toEqual({
          code: expected.code,
          message: expected.rawMessage,
          cause: expected.cause,
          same: expected === reason,
        });
      }),
    );
  });
});
