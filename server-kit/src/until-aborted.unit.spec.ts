import { describe, expect, it } from "vitest";
import { untilAborted } from "./until-aborted.js";

describe("untilAborted", () => {
  it("settles with the work while the signal has not fired, and leaves no listener behind", async () => {
    const controller = new AbortController();
    let listeners = 0;
    const signal = controller.signal;
    const add = signal.addEventListener.bind(signal);
    const remove = signal.removeEventListener.bind(signal);
    signal.addEventListener = ((...args: Parameters<typeof add>) => (listeners++, add(...args))) as typeof add;
    signal.removeEventListener = ((...args: Parameters<typeof remove>) => (
      listeners--,
      remove(...args)
    )) as typeof remove;
    await expect(untilAborted(Promise.resolve(7), signal)).resolves.toBe(7);
    await expect(untilAborted(Promise.reject(new Error("boom")), signal)).rejects.toThrow("boom");
    expect(listeners).toBe(0);
  });

  it("rejects with the signal's reason as soon as it fires, before the work settles", async () => {
    const controller = new AbortController();
    const never = new Promise<number>(() => {});
    const waiting = untilAborted(never, controller.signal);
    const reason = new Error("deadline");
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
  });

  it("rejects at once on a fired signal, with reasonOf's answer, and handles the work's later failure", async () => {
    const controller = new AbortController();
    controller.abort(new Error("gone"));
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      let fail!: (error: Error) => void;
      const work = new Promise<number>((_, reject) => (fail = reject));
      const mapped = new Error("mapped");
      await expect(untilAborted(work, controller.signal, () => mapped)).rejects.toBe(mapped);
      fail(new Error("late"));
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });
});
