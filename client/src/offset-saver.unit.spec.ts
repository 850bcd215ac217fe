import { Code, ConnectError } from "@connectrpc/connect";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createOffsetSaver, type OffsetSaverOptions } from "./offset-saver.js";

/** A SaveOffset whose every call waits until the test settles it. */
function fakeStore() {
  const calls: Array<{ offset: bigint; resolve: () => void; reject: (e: unknown) => void; signal: AbortSignal }> = [];
  let inFlight = 0;
  let mostInFlight = 0;
  const save = (offset: bigint, signal: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      inFlight++;
      mostInFlight = Math.max(mostInFlight, inFlight);
      const settle = (f: () => void) => () => {
        inFlight--;
        f();
      };
      calls.push({ offset, resolve: settle(resolve), reject: (e) => settle(() => reject(e))(), signal });
      signal.addEventListener("abort", () => settle(() => reject(new ConnectError("aborted", Code.Canceled)))(), {
        once: true,
      });
    });
  return {
    calls,
    save,
    get mostInFlight() {
      return mostInFlight;
    },
    offsets: () => calls.map((c) => c.offset),
  };
}

function saverWith(store: ReturnType<typeof fakeStore>, overrides: Partial<OffsetSaverOptions> = {}) {
  const saved: bigint[] = [];
  const permanent: unknown[] = [];
  const saver = createOffsetSaver({
    save: store.save,
    baseline: 0n,
    initialSaved: 0n,
    everyEntries: 3,
    intervalMs: 1000,
    backoff: { initialDelayMs: 10, maxDelayMs: 50 },
    onSaved: (o) => saved.push(o),
    onPermanentFailure: (e) => permanent.push(e),
    ...overrides,
  });
  return { saver, saved, permanent };
}

describe("offset saver", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("saves once everyEntries entries are unsaved, not before", async () => {
    const store = fakeStore();
    const { saver } = saverWith(store);
    saver.handled(1n, 1);
    saver.handled(2n, 1);
    await vi.advanceTimersByTimeAsync(10);
    expect(store.offsets()).toEqual([]);
    saver.handled(3n, 1);
    expect(store.offsets()).toEqual([3n]);
  });

  it("saves an unsaved entry intervalMs after it was handled, not earlier", async () => {
    const store = fakeStore();
    const { saver, saved } = saverWith(store);
    saver.handled(1n, 1);
    await vi.advanceTimersByTimeAsync(600);
    saver.handled(2n, 1);
    await vi.advanceTimersByTimeAsync(399);
    expect(store.offsets()).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(store.offsets()).toEqual([2n]);
    store.calls[0]!.resolve();
    await vi.advanceTimersByTimeAsync(0);
    expect(saved).toEqual([2n]);
    expect(saver.saved).toBe(2n);
  });

  it("never runs two saves at once; entries handled meanwhile go into one later save of the latest offset", async () => {
    const store = fakeStore();
    const { saver, saved } = saverWith(store);
    for (let id = 1n; id <= 3n; id++) saver.handled(id, 1);
    for (let id = 4n; id <= 10n; id++) saver.handled(id, 1);
    expect(store.offsets()).toEqual([3n]);
    store.calls[0]!.resolve();
    await vi.advanceTimersByTimeAsync(0);
    expect(store.offsets()).toEqual([3n, 10n]);
    store.calls[1]!.resolve();
    await vi.advanceTimersByTimeAsync(5000);
    expect(store.offsets()).toEqual([3n, 10n]);
    expect(saved).toEqual([3n, 10n]);
    expect(store.mostInFlight).toBe(1);
  });

  it("retries a transiently failed save no sooner than intervalMs later, without reporting an error", async () => {
    const store = fakeStore();
    const { saver, saved, permanent } = saverWith(store);
    for (let id = 1n; id <= 3n; id++) saver.handled(id, 1);
    store.calls[0]!.reject(new ConnectError("down", Code.Unavailable));
    await vi.advanceTimersByTimeAsync(999);
    expect(store.offsets()).toEqual([3n]);
    await vi.advanceTimersByTimeAsync(1);
    expect(store.offsets()).toEqual([3n, 3n]);
    store.calls[1]!.resolve();
    await vi.advanceTimersByTimeAsync(0);
    expect(saved).toEqual([3n]);
    expect(permanent).toEqual([]);
  });

  it("reports a permanent failure once and stops saving", async () => {
    const store = fakeStore();
    const { saver, permanent } = saverWith(store);
    for (let id = 1n; id <= 3n; id++) saver.handled(id, 1);
    const denied = new ConnectError("no", Code.PermissionDenied);
    store.calls[0]!.reject(denied);
    await vi.advanceTimersByTimeAsync(0);
    for (let id = 4n; id <= 9n; id++) saver.handled(id, 1);
    await vi.advanceTimersByTimeAsync(5000);
    expect(store.offsets()).toEqual([3n]);
    expect(permanent).toEqual([denied]);
    await expect(saver.close(1000)).rejects.toBe(denied);
  });

  it("close saves the last handled offset; with nothing new it saves nothing and returns the initial offset", async () => {
    const store = fakeStore();
    const { saver } = saverWith(store);
    saver.handled(5n, 1);
    const closing = saver.close(1000);
    await vi.advanceTimersByTimeAsync(0);
    expect(store.offsets()).toEqual([5n]);
    store.calls[0]!.resolve();
    expect(await closing).toBe(5n);

    const idle = fakeStore();
    const { saver: untouched } = saverWith(idle, { baseline: 7n, initialSaved: 7n });
    expect(await untouched.close(1000)).toBe(7n);
    expect(idle.offsets()).toEqual([]);
  });

  it("close waits for the save in flight, then saves what was handled after it", async () => {
    const store = fakeStore();
    const { saver } = saverWith(store);
    for (let id = 1n; id <= 4n; id++) saver.handled(id, 1);
    const closing = saver.close(1000);
    store.calls[0]!.resolve();
    await vi.advanceTimersByTimeAsync(0);
    expect(store.offsets()).toEqual([3n, 4n]);
    store.calls[1]!.resolve();
    expect(await closing).toBe(4n);
  });

  it("close retries transient failures with backoff and gives up at the deadline with the store's error", async () => {
    const store = fakeStore();
    const { saver } = saverWith(store);
    saver.handled(2n, 1);
    const closing = saver.close(300).catch((e: unknown) => e);
    for (let i = 0; i < 40; i++) {
      await vi.advanceTimersByTimeAsync(10);
      for (const call of store.calls) call.reject(new ConnectError("connect ECONNREFUSED", Code.Unavailable));
    }
    const error = ConnectError.from(await closing);
    expect(store.calls.length).toBeGreaterThan(3);
    expect(error.code).toBe(Code.Unavailable);
    expect(error.message).toContain("could not save offset 2 within 300 ms (connect ECONNREFUSED)");
  });

  it("close bounds a save that never answers by aborting it", async () => {
    const store = fakeStore();
    const { saver } = saverWith(store);
    saver.handled(2n, 1);
    const closing = saver.close(300).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(300);
    const error = ConnectError.from(await closing);
    expect(store.calls[0]!.signal.aborted).toBe(true);
    expect(error.code).toBe(Code.DeadlineExceeded);
  });
});
