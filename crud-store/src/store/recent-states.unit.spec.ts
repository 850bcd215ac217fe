import { silentLogger } from "@eskit/server-kit/logger.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InMemoryEventStore } from "../../test/support/in-memory-event-store.js";
import { TypeRegistry } from "../registry/type-registry.js";
import { DocumentStore } from "./documents.js";
import type { CallScope } from "./event-store-port.js";
import { RecentStates } from "./recent-states.js";
import { StateReader } from "./state-reader.js";

const type = "acme.User";
const scope: CallScope = {};

/** A Crud Store replica on `eventStore`, with a cache of recent states of `maxBytes` (0 = none). */
function replica(eventStore: InMemoryEventStore, maxBytes = 1 << 20): DocumentStore {
  const states = new StateReader(eventStore, 3, silentLogger);
  return new DocumentStore(eventStore, states, new TypeRegistry(eventStore), undefined, new RecentStates(maxBytes));
}

/** The document calls (reads of states and appends) made since `since`, registry reads left out. */
const documentCalls = (store: InMemoryEventStore, since: number) =>
  store.calls
    .slice(since)
    .filter((c) => c.method !== "getEvents")
    .map((c) => c.method);

describe("RecentStates", () => {
  it("measures a document by the size it is given, or by its JSON text, against its bound", () => {
    const recent = new RecentStates(10);
    const state = { version: 1n, deleted: false, document: { n: 1 } }; // {"n":1}: 7 characters
    recent.set(type, "a", state);
    recent.set(type, "b", state, 11);
    recent.set(type, "c", { ...state, document: { text: "longer than ten" } });
    expect([recent.get(type, "a"), recent.get(type, "b"), recent.get(type, "c")]).toEqual([
      state,
      undefined,
      undefined,
    ]);
    recent.set(type, "d", { ...state, document: { text: "longer than ten" } }, 3);
    expect([recent.get(type, "a"), recent.get(type, "d")?.version]).toEqual([state, 1n]);
  });
});

describe("RecentStates: writes of a document this replica knows are one Append", () => {
  it("updates and deletes what it created or read with one Append each, no read of the state", async () => {
    const store = new InMemoryEventStore();
    const a = replica(store);
    await a.create(type, "u1", 0n, '{"n":1}', scope);
    let since = store.calls.length;
    expect(await a.update(type, "u1", 1n, '{"n":2}', scope)).toEqual({ id: "u1", version: 2n });
    expect(await a.update(type, "u1", 2n, '{"n":3}', scope)).toEqual({ id: "u1", version: 3n });
    expect(documentCalls(store, since)).toEqual(["append", "append", "saveSnapshot"]);

    const b = replica(store);
    await b.get(type, "u1", 0n, false, scope);
    since = store.calls.length;
    expect(await b.delete(type, "u1", 3n, scope)).toEqual({ id: "u1", version: 4n });
    expect(documentCalls(store, since)).toEqual(["append"]);
    expect(store.eventsOf("u1").map((e) => e.eventType)).toEqual([
      "acme.User.Created",
      "acme.User.Updated",
      "acme.User.Updated",
      "acme.User.Deleted",
    ]);
  });

  it("lists the documents it holds at their listed versions without reading them, and reads the others", async () => {
    const store = new InMemoryEventStore();
    const [a, b] = [replica(store), replica(store)];
    for (const id of ["u1", "u2", "u3"]) await a.create(type, id, 0n, `{"id":"${id}"}`, scope);
    await b.update(type, "u2", 1n, '{"id":"u2","n":2}', scope);
    const read: string[] = [];
    const batchGetEvents = store.batchGetEvents.bind(store);
    store.batchGetEvents = (ranges, s) => (read.push(...ranges.map((r) => r.originatorId)), batchGetEvents(ranges, s));
    const since = store.calls.length;
    const page = await a.list({ entityType: type, pageToken: "", limit: 10, skipPayload: false }, scope);
    expect(page.documents.map((d) => [d.id, d.version, d.document])).toEqual([
      ["u1", 1n, { id: "u1" }],
      ["u2", 2n, { id: "u2", n: 2 }],
      ["u3", 1n, { id: "u3" }],
    ]);
    // One read, for the document B changed: A's cache holds version 1 of it, not the listed 2.
    expect(documentCalls(store, since)).toEqual(["listOriginators", "batchGetEvents"]);
    expect(read).toEqual(["u2"]);
  });

  it("finds out that another replica wrote meanwhile, and answers as if it had no cache", async () => {
    const store = new InMemoryEventStore();
    const [a, b] = [replica(store), replica(store)];
    await a.create(type, "u1", 0n, '{"n":1}', scope);
    await b.update(type, "u1", 1n, '{"n":2}', scope);
    // A still holds version 1: the caller's stale version 1 is refused after one Append and one read.
    const since = store.calls.length;
    await expect(a.update(type, "u1", 1n, '{"n":9}', scope)).rejects.toThrow(
      'acme.User "u1" is at version 2, not 1: read it again and retry with version 2',
    );
    expect(documentCalls(store, since)).toEqual(["append", "readRange"]);
    // A caller that read version 2 elsewhere is served, and A now knows version 2.
    expect(await a.update(type, "u1", 2n, '{"n":3}', scope)).toEqual({ id: "u1", version: 3n });
    expect((await a.get(type, "u1", 0n, false, scope)).document).toEqual({ n: 3 });
  });

  // Any sequence of writes and reads (Get, List) spread over two replicas with caches answers exactly as one store
  // without a cache does, call for call: same versions, same errors, same documents.
  it("never changes an answer (property: two caching replicas against one store without cache)", async () => {
    const op = fc.record({
      replica: fc.integer({ min: 0, max: 1 }),
      kind: fc.constantFrom("update", "update", "delete", "get", "list"),
      versionOffset: fc.constantFrom(0, 0, 0, -1, 1, "zero"),
      n: fc.integer({ min: 0, max: 3 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), fc.nat(2), async (ops, tinyCache) => {
        const store = new InMemoryEventStore();
        // A tiny cache (about one document) makes eviction part of the run.
        const replicas = [replica(store, tinyCache === 0 ? 12 : 1 << 20), replica(store)];
        const reference = replica(new InMemoryEventStore(), 0);
        await replicas[0]!.create(type, "u1", 0n, '{"n":0}', scope);
        await reference.create(type, "u1", 0n, '{"n":0}', scope);
        let latest = 1n;
        for (const o of ops) {
          const version = o.versionOffset === "zero" ? 0n : latest + BigInt(o.versionOffset);
          const run = (s: DocumentStore) =>
            (o.kind === "update"
              ? s.update(type, "u1", version, `{"n":${o.n}}`, scope)
              : o.kind === "delete"
                ? s.delete(type, "u1", version, scope)
                : o.kind === "get"
                  ? s.get(type, "u1", 0n, false, scope)
                  : s.list({ entityType: type, pageToken: "", limit: 10, skipPayload: false }, scope)
            ).then(
              (r) => JSON.stringify(r, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v)),
              (e: unknown) => `${(e as Error).name}: ${(e as Error).message}`,
            );
          const got = await run(replicas[o.replica]!);
          expect(got).toBe(await run(reference));
          latest = BigInt(store.eventsOf("u1").length);
        }
      }),
      { numRuns: 200 },
    );
  });
});
