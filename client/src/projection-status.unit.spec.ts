import { describe, expect, it } from "vitest";
import { createStatusTracker } from "./projection-status.js";

describe("a projection's status", () => {
  it("starts with nothing known", () => {
    expect(createStatusTracker("orders").snapshot()).toEqual({
      name: "orders",
      state: "starting",
      position: 0n,
      head: 0n,
      lag: 0n,
      applied: 0,
      batches: 0,
      retries: 0,
      lastError: undefined,
    });
  });

  it("measures the lag from the head, which never goes back nor below an applied entry", () => {
    const status = createStatusTracker("orders");
    status.position(10n);
    status.head(25n);
    expect(status.snapshot()).toMatchObject({ position: 10n, head: 25n, lag: 15n });
    status.head(20n);
    expect(status.snapshot().head).toBe(25n);
    status.applied(30n, 20);
    expect(status.snapshot()).toMatchObject({ position: 30n, head: 30n, lag: 0n, applied: 20, batches: 1 });
    status.applied(32n, 2);
    expect(status.snapshot()).toMatchObject({ applied: 22, batches: 2 });
  });

  it("counts retried errors and keeps the last error", () => {
    const status = createStatusTracker("orders");
    const at = new Date();
    status.error({ message: "lost", entryId: 4n, at, transient: true });
    status.error({ message: "lost again", entryId: 4n, at, transient: true });
    status.error({ message: "boom", entryId: 4n, at, transient: false });
    expect(status.snapshot()).toMatchObject({
      retries: 2,
      lastError: { message: "boom", entryId: 4n, at, transient: false },
    });
  });

  it("hands out snapshots that later changes do not alter", () => {
    const status = createStatusTracker("orders");
    const before = status.snapshot();
    status.state("running");
    expect(before.state).toBe("starting");
    expect(status.snapshot().state).toBe("running");
  });
});
