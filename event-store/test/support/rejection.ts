import { type Code, ConnectError } from "@connectrpc/connect";
import { expect } from "vitest";

/** The Connect code and message a call was rejected with (and the error); fails the test when the call succeeded. */
export async function rejection(call: Promise<unknown>): Promise<{ code: Code; message: string; error: ConnectError }> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConnectError);
  const { code, rawMessage } = error as ConnectError;
  return { code, message: rawMessage, error: error as ConnectError };
}
