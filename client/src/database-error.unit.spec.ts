import { describe, expect, it } from "vitest";
import { answeredWithin, NoAnswerError } from "./database-deadline.js";
import { isDeadConnectionError, isTransientDatabaseError } from "./database-error.js";

const withCode = (code: string, cause?: unknown) => Object.assign(new Error(code), { code }, { cause });

describe("isTransientDatabaseError", () => {
  it.each(["40001", "40P01", "55P03", "57P01", "57P02", "57P03", "53300", "08006", "08003", "08001"])(
    "retries SQLSTATE %s",
    (code) => {
      expect(isTransientDatabaseError(withCode(code))).toBe(true);
    },
  );

  it.each(["CONNECTION_CLOSED", "CONNECT_TIMEOUT", "ECONNREFUSED", "ECONNRESET", "EPIPE"])(
    "retries a lost connection (%s)",
    (code) => {
      expect(isTransientDatabaseError(withCode(code))).toBe(true);
    },
  );

  it.each(["23505", "23503", "42P01", "42601", "57014", "25P02", "CONNECTION_ENDED", "CONNECTION_DESTROYED"])(
    "does not retry %s, which would fail again",
    (code) => {
      expect(isTransientDatabaseError(withCode(code))).toBe(false);
    },
  );

  it("finds the code in the cause chain, as Drizzle wraps the driver's error", () => {
    const wrapped = new Error("Failed query: insert ...", { cause: withCode("40001") });
    expect(isTransientDatabaseError(wrapped)).toBe(true);
    expect(isTransientDatabaseError(new Error("x", { cause: withCode("23505") }))).toBe(false);
  });

  it("treats errors without a code, and values that are not errors, as permanent", () => {
    expect(isTransientDatabaseError(new Error("handler bug"))).toBe(false);
    expect(isTransientDatabaseError("40001")).toBe(false);
    expect(isTransientDatabaseError(undefined)).toBe(false);
    expect(isTransientDatabaseError(withCode(40001 as unknown as string))).toBe(false);
  });

  it("ends on a circular cause chain", () => {
    const a = withCode("23505") as Error & { cause?: unknown };
    a.cause = a;
    expect(isTransientDatabaseError(a)).toBe(false);
  });
});

describe("answeredWithin", () => {
  it("passes on what settles in time, and gives up with a lost connection's error on what does not", async () => {
    await expect(answeredWithin(Promise.resolve(7), 50, "fast")).resolves.toBe(7);
    await expect(answeredWithin(Promise.reject(new Error("refused")), 50, "refused")).rejects.toThrow("refused");
    let dropped = 0;
    const never = new Promise<never>(() => {});
    const error = await answeredWithin(never, 20, "taking its lock", () => dropped++).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoAnswerError);
    expect((error as Error).message).toBe("taking its lock: no answer from the database in 20 ms");
    expect(isTransientDatabaseError(error)).toBe(true);
    // Not a dead connection's error: one thrown inside a transaction must roll it back (postgres-transaction.ts).
    expect(isDeadConnectionError(error)).toBe(false);
    expect(dropped).toBe(1);
  });
});
