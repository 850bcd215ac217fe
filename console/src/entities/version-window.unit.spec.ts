import { create } from "@bufbuild/protobuf";
import { EventSchema, type Event as StoredEvent } from "@eskit/client";
import { describe, expect, it } from "vitest";
import {
  emptyWindow,
  isCapped,
  nextRange,
  shownVersionsCap,
  versionPageSize,
  withPage,
  type VersionRange,
} from "./version-window.js";

/** The events a store would answer for `range` of an originator whose latest version is `latest`. */
function answer(range: VersionRange, latest: bigint): StoredEvent[] {
  const events: StoredEvent[] = [];
  for (let v = range.fromVersion; v <= range.toVersion && v <= latest; v++) {
    events.push(create(EventSchema, { originator: { id: "acme-1", version: v }, eventType: "User.Touched" }));
  }
  return events;
}

describe("version windows", () => {
  it("read the first page as versions 1 to 100", () => {
    expect(nextRange(emptyWindow("acme-1", 1n))).toEqual({ fromVersion: 1n, toVersion: versionPageSize });
  });

  it("continue after the last version held and note when the latest was reached", () => {
    let window = emptyWindow("acme-1", 1n);
    const first = nextRange(window)!;
    window = withPage(window, first, answer(first, 150n));
    expect(window.events.length).toBe(100);
    expect(window.reachedLatest).toBe(false);
    const second = nextRange(window)!;
    expect(second).toEqual({ fromVersion: 101n, toVersion: 200n });
    window = withPage(window, second, answer(second, 150n));
    expect(window.events.map((e) => e.originator!.version).slice(-2)).toEqual([149n, 150n]);
    expect(window.next).toBe(151n);
    expect(window.reachedLatest).toBe(true);
  });

  it("start where the form says", () => {
    expect(nextRange(emptyWindow("acme-1", 1001n))).toEqual({ fromVersion: 1001n, toVersion: 1100n });
  });

  it("stop reading once they hold the cap, however long the history", () => {
    let window = emptyWindow("acme-1", 1n);
    for (let range = nextRange(window); range !== undefined; range = nextRange(window)) {
      window = withPage(window, range, answer(range, 5000n));
    }
    expect(window.events.length).toBe(shownVersionsCap);
    expect(isCapped(window)).toBe(true);
    expect(window.next).toBe(BigInt(shownVersionsCap) + 1n);
  });

  it("keep their place when a page comes back empty", () => {
    const window = emptyWindow("acme-1", 4n);
    const range = nextRange(window)!;
    const after = withPage(window, range, []);
    expect(after.next).toBe(4n);
    expect(after.reachedLatest).toBe(true);
    expect(after.events).toEqual([]);
  });

  it("never ask past the largest 64-bit version", () => {
    expect(nextRange(emptyWindow("acme-1", 18446744073709551600n))).toEqual({
      fromVersion: 18446744073709551600n,
      toVersion: 18446744073709551615n,
    });
  });
});
