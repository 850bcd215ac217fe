import { describe, expect, it } from "vitest";
import { encodeChange } from "./changes.js";
import { CorruptHistoryError } from "./errors.js";
import type { JsonObject } from "./json-document.js";
import { type DocumentState, replay, revisions, type StoredChange } from "./replay.js";

const created = (document: JsonObject, version = 1n): StoredChange => ({
  version,
  action: "created",
  change: { payload: JSON.stringify(document), encoding: "document" },
});
const updated = (version: bigint, previous: JsonObject, next: JsonObject): StoredChange => ({
  version,
  action: "updated",
  change: encodeChange(previous, next)!,
});
const deleted = (version: bigint): StoredChange => ({
  version,
  action: "deleted",
  change: { payload: "", encoding: "document" },
});

const v1 = { name: "Ada", tags: ["math"], address: { city: "London", zip: "N1" } };
const v2 = { name: "Ada", tags: ["math"], address: { city: "Paris", zip: "N1" } };
const v3 = { name: "Ada Lovelace", tags: ["math"], address: { city: "Paris" } };
const history = [created(v1), updated(2n, v1, v2), updated(3n, v2, v3)];

describe("replay", () => {
  it("folds a history into the latest document", () => {
    expect(history[1]!.change.encoding).toBe("merge-patch");
    expect(replay(undefined, history)).toEqual({ version: 3n, document: v3, deleted: false });
  });

  it("continues from a snapshot", () => {
    const snapshot: DocumentState = { version: 2n, document: v2, deleted: false };
    expect(replay(snapshot, history.slice(2))).toEqual({ version: 3n, document: v3, deleted: false });
  });

  it("returns the snapshot when nothing follows it, and nothing when there is nothing", () => {
    const snapshot: DocumentState = { version: 2n, document: v2, deleted: false };
    expect(replay(snapshot, [])).toBe(snapshot);
    expect(replay(undefined, [])).toBeUndefined();
  });

  it("keeps the last content of a deleted document", () => {
    expect(replay(undefined, [...history, deleted(4n)])).toEqual({ version: 4n, document: v3, deleted: true });
  });

  it("leaves the snapshot it starts from untouched", () => {
    const snapshot: DocumentState = { version: 1n, document: structuredClone(v1), deleted: false };
    replay(snapshot, history.slice(1));
    expect(snapshot.document).toEqual(v1);
  });

  it.each<[string, DocumentState | undefined, StoredChange[], string]>([
    ["a gap in the versions", undefined, [created(v1), updated(3n, v1, v2)], "version 3 where version 2 was expected"],
    ["a repeated version", undefined, [created(v1), updated(1n, v1, v2)], "version 1 where version 2 was expected"],
    ["a history not starting at 1", undefined, [created(v1, 2n)], "version 2 where version 1 was expected"],
    [
      "a gap after the snapshot",
      { version: 5n, document: v1, deleted: false },
      [updated(7n, v1, v2)],
      "version 7 where version 6 was expected",
    ],
    ["a second creation", undefined, [created(v1), created(v2, 2n)], '"created" at version 2, not 1'],
    [
      "a creation after a snapshot",
      { version: 1n, document: v1, deleted: false },
      [created(v2, 2n)],
      '"created" at version 2, not 1',
    ],
    ["an update before creation", undefined, [updated(1n, v1, v2)], '"updated" at version 1 before "created"'],
    ["a deletion before creation", undefined, [deleted(1n)], '"deleted" at version 1 before "created"'],
    [
      "an update after deletion",
      undefined,
      [created(v1), deleted(2n), updated(3n, v1, v2)],
      '"updated" at version 3, after the deletion',
    ],
    [
      "a second deletion",
      undefined,
      [created(v1), deleted(2n), deleted(3n)],
      '"deleted" at version 3, after the deletion',
    ],
    [
      "anything after a deleted snapshot",
      { version: 4n, document: v1, deleted: true },
      [updated(5n, v1, v2)],
      "after the deletion",
    ],
    [
      "a creation stored as a patch",
      undefined,
      [{ version: 1n, action: "created", change: { payload: "{}", encoding: "merge-patch" } }],
      '"created" with a merge-patch, not a document',
    ],
    [
      "an unknown action",
      undefined,
      [created(v1), { version: 2n, action: "renamed" as "updated", change: { payload: "{}", encoding: "document" } }],
      'unknown action "renamed" at version 2',
    ],
    [
      "a change that is not JSON",
      undefined,
      [created(v1), { version: 2n, action: "updated", change: { payload: "{", encoding: "merge-patch" } }],
      "merge-patch change cannot be applied",
    ],
  ])("refuses %s as corrupt history", (_, start, changes, message) => {
    expect(() => replay(start, changes)).toThrow(CorruptHistoryError);
    expect(() => replay(start, changes)).toThrow(message);
  });

  it("replays 1,000 small patches in well under 10 ms", () => {
    const changes: StoredChange[] = [created({ count: 0, label: "counter" })];
    for (let i = 1; i <= 1000; i++) {
      changes.push(updated(BigInt(i + 1), { count: i - 1, label: "counter" }, { count: i, label: "counter" }));
    }
    expect(changes.every((c, i) => i === 0 || c.change.encoding === "merge-patch")).toBe(true);
    // Best of a few runs, so a busy CI machine or the first (unoptimised) run does not decide.
    let best = Infinity;
    for (let run = 0; run < 5; run++) {
      const started = performance.now();
      expect(replay(undefined, changes)?.document).toEqual({ count: 1000, label: "counter" });
      best = Math.min(best, performance.now() - started);
    }
    expect(best).toBeLessThan(10);
  });
});

describe("revisions", () => {
  it("yields the state after every event", () => {
    const steps = [...revisions(undefined, [...history, deleted(4n)])];
    expect(steps.map(({ version, action }) => [version, action])).toEqual([
      [1n, "created"],
      [2n, "updated"],
      [3n, "updated"],
      [4n, "deleted"],
    ]);
    expect(steps.map(({ state }) => state)).toEqual([
      { version: 1n, document: v1, deleted: false },
      { version: 2n, document: v2, deleted: false },
      { version: 3n, document: v3, deleted: false },
      { version: 4n, document: v3, deleted: true },
    ]);
  });

  it("does no work past where its reader stops", () => {
    const corrupt: StoredChange = { version: 3n, action: "updated", change: { payload: "{", encoding: "merge-patch" } };
    const steps = revisions(undefined, [history[0]!, history[1]!, corrupt]);
    expect(steps.next().value?.state.document).toEqual(v1);
    expect(steps.next().value?.state.document).toEqual(v2);
    expect(() => steps.next()).toThrow(CorruptHistoryError);
  });
});
