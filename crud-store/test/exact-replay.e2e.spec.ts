import { Code } from "@connectrpc/connect";
import { Action } from "@eskit/gen/eskit/crudstore/v1/crud_store_pb.js";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testSize } from "@eskit/test-kit/test-sizes.js";
import { startCrudStoreHarness, type CrudClient, type CrudStoreHarness } from "./harness.js";
import { expectSameJson, freshId, freshType, parse, rejection, sleep, type JsonObject } from "./support/documents.js";
import { applyEdit, canonical, edit, jsonDocument, type Edit } from "./support/json-arbitraries.js";

// Exact replay: whatever documents were saved, Get at every version gives back exactly the document saved at that
// version, whether the state comes from the Created event, merge patches, whole documents or snapshots. One server
// pair per snapshot setting; each run uses an id of its own.

const numRuns = Number(process.env["ESKIT_TEST_RUNS"] ?? testSize(25, 5));
const seed = process.env["ESKIT_TEST_SEED"] === undefined ? undefined : Number(process.env["ESKIT_TEST_SEED"]);

/**
 * Creates `first`, applies `edits` one Update at a time, optionally deletes, then checks Get at every version, the
 * latest version and History against what was sent (parsed back from the very text sent).
 */
async function saveAndReplay(
  crud: CrudClient,
  entityType: string,
  first: JsonObject,
  edits: readonly Edit[],
  remove: boolean,
): Promise<void> {
  const id = freshId("replay");
  const firstText = JSON.stringify(first);
  await crud.create({ entityType, originator: { id }, payload: firstText });
  const saved: unknown[] = [JSON.parse(firstText)];
  let current = first;
  for (const [i, change] of edits.entries()) {
    const next = applyEdit(current, change);
    const text = JSON.stringify(next);
    const version = BigInt(saved.length);
    const response = await crud.update({ entityType, originator: { id, version }, payload: text });
    const got = response.originator?.version;
    const context = `edit ${i} (${change.kind}) at version ${version}: ${text}`;
    if (text === JSON.stringify(current)) {
      expect(got, `an identical document writes nothing; ${context}`).toBe(version);
    } else if (canonical(next) !== canonical(current)) {
      expect(got, `a changed document makes a version; ${context}`).toBe(version + 1n);
    } else {
      // The same JSON value with its keys in another order: either reading of "identical" is acceptable.
      expect([version, version + 1n], context).toContain(got);
    }
    if (got === version + 1n) {
      saved.push(JSON.parse(text));
      current = next;
    }
  }
  const latest = BigInt(saved.length);
  if (remove) {
    expect((await crud.delete({ entityType, originator: { id, version: latest } })).originator?.version).toBe(
      latest + 1n,
    );
  }

  for (let v = 1; v <= saved.length; v++) {
    const read = await crud.get({ entityType, originator: { id, version: BigInt(v) } });
    expect(read.originator, `version ${v}`).toMatchObject({ id, version: BigInt(v) });
    expectSameJson(parse(read.payload), saved[v - 1], `version ${v}`);
  }
  if (remove) {
    expect((await rejection(crud.get({ entityType, originator: { id } }))).code).toBe(Code.NotFound);
    const last = await crud.get({ entityType, originator: { id }, deleted: true });
    expect(last.originator?.version).toBe(latest + 1n);
    expectSameJson(parse(last.payload), saved.at(-1), "deleted, last state");
  } else {
    const read = await crud.get({ entityType, originator: { id } });
    expect(read.originator?.version).toBe(latest);
    expectSameJson(parse(read.payload), saved.at(-1), "latest");
  }

  const history = await crud.history({ entityType, originatorId: id, limit: 1000 });
  const expectedVersions = remove ? saved.length + 1 : saved.length;
  expect(history.revisions.map((r) => r.version)).toEqual(
    Array.from({ length: expectedVersions }, (_, i) => BigInt(i + 1)),
  );
  expectSameJson(
    history.revisions.map((r) => parse(r.payload)),
    remove ? [...saved, saved.at(-1)] : saved,
    "History",
  );
  expect(history.revisions.map((r) => r.action)).toEqual([
    Action.CREATED,
    ...Array<Action>(saved.length - 1).fill(Action.UPDATED),
    ...(remove ? [Action.DELETED] : []),
  ]);
}

const snapshotSettings: ReadonlyArray<{ label: string; snapshotEvery: number | undefined }> = [
  { label: "a snapshot every version", snapshotEvery: 1 },
  { label: "a snapshot every 2 versions", snapshotEvery: 2 },
  { label: "the default snapshot interval", snapshotEvery: undefined },
  { label: "snapshots off", snapshotEvery: 0 },
];

describe.each(snapshotSettings)("exact replay with $label", ({ snapshotEvery }) => {
  let harness: CrudStoreHarness;
  let crud: CrudClient;
  let entityType: string;
  beforeAll(async () => {
    harness = await startCrudStoreHarness({ snapshotEvery });
    crud = harness.clients("grpc").crud;
    entityType = freshType("replay");
  });
  afterAll(async () => {
    await harness?.stop();
  });

  it("Get at every version returns exactly the document saved at that version", async () => {
    await fc.assert(
      fc.asyncProperty(jsonDocument, fc.array(edit, { maxLength: 12 }), fc.boolean(), async (first, edits, remove) => {
        await saveAndReplay(crud, entityType, first, edits, remove);
      }),
      { numRuns, ...(seed === undefined ? {} : { seed }) },
    );
  }, 120_000);

  it("replays the changes a JSON merge patch cannot express, and keys that are easy to lose", async () => {
    const e = (document: JsonObject): Edit => ({ kind: "replace", document });
    const withKey = (key: string, value: unknown): JsonObject =>
      JSON.parse(`{${JSON.stringify(key)}:${JSON.stringify(value)}}`) as JsonObject;
    let deep: JsonObject = { leaf: null };
    for (let i = 0; i < 40; i++) deep = { [`level${i}`]: deep, n: i };
    const sequences: Array<[JsonObject, Edit[]]> = [
      [{ a: { b: 1 } }, [e({ a: { b: 1, c: null } }), e({ a: { b: 1 } }), e({ a: { b: null } })]],
      [{ a: 1 }, [e({ a: { b: null } }), e({ a: { b: null, c: 1 } }), e({ a: 1 })]],
      [{ a: [1, { b: null }] }, [e({ a: [{ b: null }] }), e({ a: [] }), e({ a: [null] })]],
      [{ a: { b: {} } }, [e({ a: {} }), e({ a: { b: 1 } }), e({ a: 1 }), e({ a: {} }), e({})]],
      [{ a: "x" }, [e({ a: null }), e({ a: "x" }), e({})]],
      [
        {},
        [
          e(withKey("__proto__", { x: 1 })),
          e(withKey("__proto__", { x: 2 })),
          e(withKey("__proto__", null)),
          e({ constructor: { prototype: 1 } }),
        ],
      ],
      [{ "": 1 }, [e({ "": 2 }), e({ "": { "": null } })]],
      [{ "\u00e9": 1, "e\u0301": 2 }, [e({ "\u00e9": 1, "e\u0301": 3 }), e({ "e\u0301": 3 })]],
      [{ "a.b": { "c/d": 1 }, "~0": 2 }, [e({ "a.b": { "c/d": 2 }, "~0": 2 }), e({ a: { b: { c: { d: 2 } } } })]],
      [{ n: 1e308 }, [e({ n: 12345678901234567890 }), e({ n: 5e-324 }), e({ n: -0.0000001 }), e({ n: 2 ** 53 + 2 })]],
      [{ s: '\u0000\ud800 \n"\\ 🏳️‍🌈' }, [e({ s: "\ud83d" }), e({ s: "plain" })]],
      [deep, [e({ ...deep, n: -1 }), e({ other: deep })]],
    ];
    for (const [first, edits] of sequences) {
      for (const remove of [false, true]) await saveAndReplay(crud, entityType, first, edits, remove);
    }
  }, 60_000);

  it("replays a long run of small edits across many snapshot intervals", async () => {
    const first: JsonObject = { counter: 0, list: [], nested: { keep: "me", deep: { x: null } } };
    const edits: Edit[] = [];
    for (let i = 1; i <= 120; i++) {
      edits.push({ kind: "set", path: [], key: "counter", value: i });
      if (i % 7 === 0) edits.push({ kind: "null", path: [1], key: `k${i}`, value: null });
      if (i % 11 === 0) edits.push({ kind: "delete", path: [0, 0], key: "", value: null });
    }
    // Keys are picked by position: make "counter" always the first so "set" hits it.
    await saveAndReplay(crud, entityType, first, edits, false);
  }, 120_000);

  it("keeps snapshots in the event store only when they are on", async () => {
    const id = freshId("snap");
    await crud.create({ entityType, originator: { id }, payload: JSON.stringify({ n: 0 }) });
    for (let n = 1; n < 8; n++) {
      await crud.update({ entityType, originator: { id, version: BigInt(n) }, payload: JSON.stringify({ n }) });
    }
    // Reads are where a store may choose to save a snapshot.
    await crud.get({ entityType, originator: { id } });
    const eventStore = harness.eventStoreClient();
    const snapshotVersion = async (): Promise<bigint> => {
      try {
        return (await eventStore.getSnapshot({ originatorId: id, maxVersion: 0n })).version;
      } catch {
        return 0n;
      }
    };
    if (snapshotEvery === 1 || snapshotEvery === 2) {
      let version = 0n;
      for (let i = 0; i < 40 && version === 0n; i++) {
        version = await snapshotVersion();
        if (version === 0n) await sleep(50);
      }
      expect(version).toBeGreaterThanOrEqual(BigInt(8 - snapshotEvery));
      expect(version).toBeLessThanOrEqual(8n);
    } else {
      await sleep(200);
      expect(await snapshotVersion()).toBe(0n);
    }
    const read = await crud.get({ entityType, originator: { id } });
    expect(parse(read.payload)).toStrictEqual({ n: 7 });
  });
});
