import { silentLogger } from "@eskit/server-kit/logger.js";
import { describe, expect, it } from "vitest";
import { inMemoryCore } from "../../test/support/in-memory-core.js";
import { NotFoundError } from "../domain/errors.js";
import type { CallScope } from "./event-store-port.js";
import { revisionHistory } from "./revision-history.js";
import { StateReader } from "./state-reader.js";

const type = "acme.Counter";
const scope: CallScope = {};

/** Writes versions 1..`versions` of document `id`, whose field `n` is its version. */
async function counter(core: ReturnType<typeof inMemoryCore>, id: string, versions: number): Promise<void> {
  await core.documents.create(type, id, 0n, '{"n":1}', scope);
  for (let v = 2; v <= versions; v++) await core.documents.update(type, id, BigInt(v - 1), `{"n":${v}}`, scope);
}

/** The first version of the events read for `id` since `since` (the index of the first call to look at). */
function eventReadsFrom(core: ReturnType<typeof inMemoryCore>, id: string, since: number): bigint[] {
  return core.eventStore.calls
    .slice(since)
    .filter((c) => (c.method === "getEvents" || c.method === "readRange") && c.originatorId === id)
    .map((c) => c.fromVersion!);
}

describe("StateReader on an in-memory Event Store", () => {
  it("keeps a snapshot every snapshotEvery versions as documents are written", async () => {
    const core = inMemoryCore(3);
    await counter(core, "c1", 7);
    expect(core.eventStore.snapshotVersionsOf("c1")).toEqual([3n, 6n]);
  });

  it("reads the latest state from the latest snapshot plus the events after it", async () => {
    const core = inMemoryCore(3);
    await counter(core, "c1", 7);
    const since = core.eventStore.calls.length;
    expect(await core.states.read(type, "c1", 0n, scope)).toEqual({ version: 7n, deleted: false, document: { n: 7 } });
    expect(eventReadsFrom(core, "c1", since)).toEqual([7n]);
  });

  it("reads an earlier version from the snapshot at or below it", async () => {
    const core = inMemoryCore(3);
    await counter(core, "c1", 7);
    const since = core.eventStore.calls.length;
    expect(await core.states.read(type, "c1", 4n, scope)).toEqual({ version: 4n, deleted: false, document: { n: 4 } });
    expect(eventReadsFrom(core, "c1", since)).toEqual([4n]);
  });

  it("saves a snapshot in the background when a read had to replay snapshotEvery events or more", async () => {
    const writer = inMemoryCore(0);
    await counter(writer, "c1", 5);
    const reader = new StateReader(writer.eventStore, 3, silentLogger);
    expect((await reader.read(type, "c1", 0n, scope)).version).toBe(5n);
    await reader.drain();
    expect(writer.eventStore.snapshotVersionsOf("c1")).toEqual([5n]);
  });

  it("skips an unreadable snapshot, with a warning, and reads the same state from the events", async () => {
    const core = inMemoryCore(3);
    await counter(core, "c1", 4);
    core.eventStore.corruptSnapshot("c1", 3n, "not json");
    expect(await core.states.read(type, "c1", 0n, scope)).toEqual({ version: 4n, deleted: false, document: { n: 4 } });
    expect(core.warnings).toEqual(["ignoring an unreadable snapshot"]);
  });

  it("answers NotFoundError when a snapshot says the id is a document of another type", async () => {
    const core = inMemoryCore(3);
    await counter(core, "c1", 3);
    await expect(core.states.read("acme.Other", "c1", 0n, scope)).rejects.toThrow(
      new NotFoundError('no acme.Other with id "c1"'),
    );
  });

  it("reads many documents at their versions in one call, each from its latest snapshot at or below its version", async () => {
    const core = inMemoryCore(3);
    await counter(core, "a", 2);
    await counter(core, "b", 4);
    await counter(core, "c", 7);
    core.eventStore.corruptSnapshot("c", 6n, "not json");
    const since = core.eventStore.calls.length;
    const states = await core.states.readMany(
      type,
      [
        { id: "a", version: 2n },
        { id: "b", version: 4n },
        { id: "c", version: 5n },
        { id: "c", version: 7n },
      ],
      scope,
    );
    expect(states.map((s) => [s.version, s.document])).toEqual([
      [2n, { n: 2 }],
      [4n, { n: 4 }],
      [5n, { n: 5 }],
      [7n, { n: 7 }],
    ]);
    // One batch for all; only the document whose snapshot cannot be read costs more: a read that skips it.
    const calls = core.eventStore.calls.slice(since).map((c) => [c.method, c.originatorId, c.fromVersion]);
    expect(calls).toEqual([
      ["batchGetEvents", undefined, undefined],
      ["readRange", "c", 7n],
      ["readRange", "c", 1n],
    ]);
  });
});

describe("revisionHistory on an in-memory Event Store", () => {
  it("pages through the revisions oldest first, each with its time, the last page without a token", async () => {
    const core = inMemoryCore(3);
    await counter(core, "c1", 5);
    await core.documents.delete(type, "c1", 5n, scope);
    const first = await revisionHistory(core.states, { entityType: type, id: "c1", pageToken: "", limit: 4 }, scope);
    expect(first.revisions.map((r) => [r.version, r.action, r.state.document])).toEqual([
      [1n, "created", { n: 1 }],
      [2n, "updated", { n: 2 }],
      [3n, "updated", { n: 3 }],
      [4n, "updated", { n: 4 }],
    ]);
    expect(first.revisions.every((r) => typeof r.occurredOn?.seconds === "bigint")).toBe(true);
    const second = await revisionHistory(
      core.states,
      { entityType: type, id: "c1", pageToken: first.nextPageToken, limit: 4 },
      scope,
    );
    expect(second.revisions.map((r) => [r.version, r.action, r.state.deleted])).toEqual([
      [5n, "updated", false],
      [6n, "deleted", true],
    ]);
    expect(second.nextPageToken).toBe("");
  });
});
