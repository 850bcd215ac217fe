import { create } from "@bufbuild/protobuf";
import { EventSchema } from "@eskit/client";
import { describe, expect, it } from "vitest";
import { emptyWindow, nextRange, withPage, type VersionWindow } from "./version-window.js";
import { windowStatus } from "./window-status.js";

/** A window that read `count` versions from `from` and got `latest` as its last version. */
function windowOf(from: bigint, latest: bigint, pages: number): VersionWindow {
  let window = emptyWindow("acme-1", from);
  for (let i = 0; i < pages; i++) {
    const range = nextRange(window)!;
    const page = [];
    for (let v = range.fromVersion; v <= range.toVersion && v <= latest; v++) {
      page.push(create(EventSchema, { originator: { id: "acme-1", version: v }, eventType: "User.Touched" }));
    }
    window = withPage(window, range, page);
  }
  return window;
}

describe("windowStatus", () => {
  const limits = "read 100 at a time, at most 1,000 shown at once";

  it("says which versions are shown and that more can be read", () => {
    expect(windowStatus(windowOf(1n, 500n, 2), false)).toBe(`versions 1–200 shown (200) · ${limits}`);
  });

  it("says when the latest version is shown", () => {
    expect(windowStatus(windowOf(1n, 3n, 1), false)).toBe(
      `versions 1–3 shown (3) · ${limits} · the latest version is shown`,
    );
  });

  it("says where to continue once the cap is reached", () => {
    expect(windowStatus(windowOf(1n, 5000n, 10), false)).toBe(
      `versions 1–1000 shown (1,000) · ${limits} · the cap is reached: continue from version 1001 to see later ones`,
    );
  });

  it("says a read is running", () => {
    expect(windowStatus(emptyWindow("acme-1", 1n), true)).toBe(`no versions shown · ${limits} · reading…`);
  });
});
