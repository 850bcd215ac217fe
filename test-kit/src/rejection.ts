import { type Code, ConnectError } from "@connectrpc/connect";
import { expect } from "vitest";

/** The Connect code and message a call was rejected with; fails the test when the call succeeded. */
export async function rejection(call: Promise<unknown>): Promise<{ code: Code; message: string }> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConnectError);
  const { code, rawMessage } = error as ConnectError;
  return { code, message: rawMessage };
}

/** The ConnectError a call was rejected with, to read its details; fails the test when the call succeeded. */
export async function rejectionError(call: Promise<unknown>): Promise<ConnectError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConnectError);
  return error as ConnectError;
}
