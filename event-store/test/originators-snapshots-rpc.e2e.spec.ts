import { randomUUID } from "node:crypto";
import { Code } from "@connectrpc/connect";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testSize } from "@eskit/test-kit/test-sizes.js";
import { type Clients, type TestEventStore, clientsFor, protocols, startTestEventStore } from "./harness.js";
import { rejection } from "@eskit/test-kit/rejection.js";

// The Event Store RPCs that stores built on it (the Crud Store) need: originators by entity type, and snapshots.

let store: TestEventStore;
beforeAll(async () => {
  store = await startTestEventStore({ maxRequestBytes: 4096, maxEventBytes: 4096 });
});
afterAll(async () => {
  await store.stop();
});

const unique = (prefix: string) => `${prefix}${randomUUID().replaceAll("-", "").slice(0, 12)}`;

describe.each(protocols)("ListOriginators, SaveSnapshot, GetSnapshot over %s", (protocol) => {
  let c: Clients;
  beforeAll(() => {
    c = clientsFor(store.url, protocol);
  });
  afterAll(() => c.close());

  const append = (id: string, version: number, eventType: string, payload = "{}") =>
    c.eventStore.append({ events: [{ originator: { id, version: BigInt(version) }, eventType, payload }] });

  /** Every page of ListOriginators, followed with next_after_id. */
  async function listAll(entityType: string, limit: number, excludeLastAction = "") {
    const pages: string[][] = [];
    let afterId = "";
    for (;;) {
      const page = await c.eventStore.listOriginators({ entityType, afterId, limit, excludeLastAction });
      pages.push(page.originators.map((o) => o.id));
      if (page.nextAfterId === "") return { ids: pages.flat(), pages, last: page };
      afterId = page.nextAfterId;
    }
  }

  it("lists each originator of a type once, in id order, with its latest version and event type, across pages", async () => {
    const type = unique("Doc");
    const ids = ["b", "a", "d", "c", "e"].map((x) => `${x}-${randomUUID()}`);
    for (const id of ids) await append(id, 1, `${type}.Created`);
    await append(ids[0]!, 2, `${type}.Updated`);
    await append(ids[0]!, 3, `${type}.Updated`);
    await append(`x-${randomUUID()}`, 1, `${unique("Other")}.Created`);
    const { ids: listed, pages } = await listAll(type, 2);
    expect(listed).toEqual([...ids].sort());
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
    const first = await c.eventStore.listOriginators({ entityType: type, afterId: "", limit: 10 });
    const b = first.originators.find((o) => o.id === ids[0]);
    expect([b?.version, b?.lastEventType]).toEqual([3n, `${type}.Updated`]);
  });

  it("skips originators whose latest event has the excluded action", async () => {
    const type = unique("Doc");
    const [live, gone, back] = ["a", "b", "c"].map((x) => `${x}-${randomUUID()}`);
    await append(live!, 1, `${type}.Created`);
    await append(gone!, 1, `${type}.Created`);
    await append(gone!, 2, `${type}.Deleted`);
    await append(back!, 1, `${type}.Created`);
    await append(back!, 2, `${type}.Deleted`);
    await append(back!, 3, `${type}.Created`);
    expect((await listAll(type, 10, "Deleted")).ids).toEqual([live, back]);
    expect((await listAll(type, 10)).ids).toEqual([live, gone, back]);
  });

  it("pages any set of originators with no duplicate and no omission (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 6, unit: "grapheme" }), { minLength: 0, maxLength: 12 }),
        fc.integer({ min: 1, max: 5 }),
        async (names, limit) => {
          const type = unique("P");
          for (const name of names) await append(`${type}/${name}`, 1, `${type}.Created`);
          const { ids } = await listAll(type, limit);
          expect(new Set(ids).size).toBe(ids.length);
          expect([...ids].sort()).toEqual(names.map((n) => `${type}/${n}`).sort());
        },
      ),
      { numRuns: testSize(8, 2) },
    );
  });

  it("rejects an empty entity type and a limit over 1000 with invalid_argument", async () => {
    expect((await rejection(c.eventStore.listOriginators({ entityType: "" }))).code).toBe(Code.InvalidArgument);
    expect((await rejection(c.eventStore.listOriginators({ entityType: "User.*" }))).code).toBe(Code.InvalidArgument);
    const tooMany = await rejection(c.eventStore.listOriginators({ entityType: "User", limit: 1001 }));
    expect([tooMany.code, tooMany.message]).toEqual([Code.InvalidArgument, "limit is 1001: at most 1000"]);
  });

  it("returns the latest snapshot at or below a version, byte for byte", async () => {
    const id = unique("s");
    for (let v = 1; v <= 5; v++) await append(id, v, "Doc.Updated", `{"v":${v}}`);
    await c.eventStore.saveSnapshot({ originatorId: id, version: 2n, payload: '{ "state" : 2 }' });
    await c.eventStore.saveSnapshot({ originatorId: id, version: 4n, payload: '{"state":4, "é":"☃"}' });
    const at = async (maxVersion: bigint) => {
      const s = await c.eventStore.getSnapshot({ originatorId: id, maxVersion });
      return [s.version, s.payload];
    };
    expect(await at(0n)).toEqual([4n, '{"state":4, "é":"☃"}']);
    expect(await at(5n)).toEqual([4n, '{"state":4, "é":"☃"}']);
    expect(await at(3n)).toEqual([2n, '{ "state" : 2 }']);
    expect(await at(2n)).toEqual([2n, '{ "state" : 2 }']);
    const none = await rejection(c.eventStore.getSnapshot({ originatorId: id, maxVersion: 1n }));
    expect([none.code, none.message]).toEqual([
      Code.NotFound,
      `originator "${id}" has no snapshot at or below version 1`,
    ]);
  });

  it("reads a state in one call: GetEvents and BatchGetEvents from the latest snapshot, then the events after it", async () => {
    const id = unique("s");
    const bare = unique("s");
    for (let v = 1; v <= 5; v++) await append(id, v, "Doc.Updated", `{"v":${v}}`);
    await append(bare, 1, "Doc.Created", '{"v":1}');
    await c.eventStore.saveSnapshot({ originatorId: id, version: 3n, payload: '{ "state" : 3 }' });
    const read = async (toVersion: bigint, fromVersion = 0n) => {
      const r = await c.eventStore.getEvents({ originatorId: id, fromVersion, toVersion, fromLatestSnapshot: true });
      return [r.snapshot?.version, r.snapshot?.payload, r.events.map((e) => e.originator?.version)];
    };
    expect(await read(0n)).toEqual([3n, '{ "state" : 3 }', [4n, 5n]]);
    expect(await read(4n)).toEqual([3n, '{ "state" : 3 }', [4n]]);
    expect(await read(2n)).toEqual([undefined, undefined, [1n, 2n]]);
    expect(await read(0n, 5n)).toEqual([3n, '{ "state" : 3 }', [5n]]);
    // Without the flag, nothing changes: no snapshot, every event in range.
    const plain = await c.eventStore.getEvents({ originatorId: id });
    expect([plain.snapshot, plain.events.length]).toEqual([undefined, 5]);
    const batch = await c.eventStore.batchGetEvents({
      ranges: [
        { originatorId: id, fromLatestSnapshot: true },
        { originatorId: bare, fromLatestSnapshot: true },
        { originatorId: id },
      ],
    });
    expect(batch.results.map((r) => [r.snapshot?.version, r.events.map((e) => e.originator?.version)])).toEqual([
      [3n, [4n, 5n]],
      [undefined, [1n]],
      [undefined, [1n, 2n, 3n, 4n, 5n]],
    ]);
  });

  it("replaces the snapshot of the same version", async () => {
    const id = unique("s");
    await append(id, 1, "Doc.Created");
    await c.eventStore.saveSnapshot({ originatorId: id, version: 1n, payload: '{"a":1}' });
    await c.eventStore.saveSnapshot({ originatorId: id, version: 1n, payload: '{"a":2}' });
    expect((await c.eventStore.getSnapshot({ originatorId: id })).payload).toBe('{"a":2}');
  });

  it("refuses a snapshot ahead of the history with failed_precondition, and bad input with precise codes", async () => {
    const id = unique("s");
    await append(id, 1, "Doc.Created");
    const ahead = await rejection(c.eventStore.saveSnapshot({ originatorId: id, version: 2n, payload: "{}" }));
    expect([ahead.code, ahead.message]).toEqual([
      Code.FailedPrecondition,
      `originator "${id}" is at version 1: a snapshot of version 2 would be ahead of its history`,
    ]);
    expect((await rejection(c.eventStore.saveSnapshot({ originatorId: id, version: 1n, payload: "{no" }))).code).toBe(
      Code.InvalidArgument,
    );
    expect((await rejection(c.eventStore.saveSnapshot({ originatorId: id, version: 0n, payload: "{}" }))).code).toBe(
      Code.InvalidArgument,
    );
    expect((await rejection(c.eventStore.saveSnapshot({ originatorId: "", version: 1n, payload: "{}" }))).code).toBe(
      Code.InvalidArgument,
    );
    const big = JSON.stringify("x".repeat(5000));
    expect((await rejection(c.eventStore.saveSnapshot({ originatorId: id, version: 1n, payload: big }))).code).toBe(
      Code.ResourceExhausted,
    );
    expect((await rejection(c.eventStore.getSnapshot({ originatorId: id }))).code).toBe(Code.NotFound);
  });
});
