import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { documentConflictOf, documentExistsOf, type EventStoreClient } from "@eskit/client";
import { Action, type ListResult, type Revision } from "@eskit/gen/eskit/crudstore/v1/crud_store_pb.js";
import { HealthCheckResponse_ServingStatus as ServingStatus } from "@eskit/gen/grpc/health/v1/health_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { healthz, protocols, startCrudStoreHarness, type CrudClient, type CrudStoreHarness } from "./harness.js";
import {
  applyMergePatch,
  freshId,
  freshType,
  outcome,
  parse,
  rejection,
  rejectionError,
  uuidPattern,
} from "./support/documents.js";

// One Event Store and Crud Store serve every test of this file (a PGlite start costs seconds); each test works in
// entity types and ids of its own, so none sees another's documents.
let harness: CrudStoreHarness;
let crud: CrudClient;
let eventStore: EventStoreClient;

beforeAll(async () => {
  harness = await startCrudStoreHarness();
  crud = harness.clients("grpc").crud;
  eventStore = harness.eventStoreClient();
});
afterAll(async () => {
  await harness?.stop();
});

const json = (value: unknown): string => JSON.stringify(value);

/** Creates a document with a chosen id and checks it landed at version 1. */
async function createDoc(client: CrudClient, entityType: string, doc: unknown, id = freshId()): Promise<string> {
  const response = await client.create({ entityType, originator: { id }, payload: json(doc) });
  expect(response.originator).toMatchObject({ id, version: 1n });
  return id;
}

/** Every page of a List, following next_page_token until it is empty. */
async function listAll(
  client: CrudClient,
  entityType: string,
  limit: number,
  skipPayload = false,
): Promise<ListResult[][]> {
  const pages: ListResult[][] = [];
  let pageToken = "";
  for (let i = 0; i < 1000; i++) {
    const page = await client.list({ entityType, pageToken, limit, skipPayload });
    pages.push(page.results);
    if (page.nextPageToken === "") return pages;
    pageToken = page.nextPageToken;
  }
  throw new Error("List never ended");
}

/** Every revision of a History, following next_page_token until it is empty. */
async function historyAll(
  client: CrudClient,
  entityType: string,
  originatorId: string,
  limit: number,
): Promise<Revision[][]> {
  const pages: Revision[][] = [];
  let pageToken = "";
  for (let i = 0; i < 1000; i++) {
    const page = await client.history({ entityType, originatorId, pageToken, limit });
    pages.push(page.revisions);
    if (page.nextPageToken === "") return pages;
    pageToken = page.nextPageToken;
  }
  throw new Error("History never ended");
}

describe.each(protocols)("documents over %s", (protocol) => {
  let client: CrudClient;
  beforeAll(() => {
    client = harness.clients(protocol).crud;
  });

  it("creates, reads, updates, lists and deletes a document, each version readable afterwards", async () => {
    const entityType = freshType(protocol.replace("-", ""));
    const id = freshId(protocol);
    const v1 = {
      name: "Ada Lovelace",
      born: 1815,
      languages: ["en", "fr"],
      address: { city: "London" },
      note: "ünïcødé ✓",
    };
    const v2 = { ...v1, address: { city: "London", street: "St James's Square" }, born: 1816 };

    const created = await client.create({ entityType, originator: { id }, payload: json(v1) });
    expect(created.originator).toMatchObject({ id, version: 1n });
    const read1 = await client.get({ entityType, originator: { id } });
    expect(read1.originator).toMatchObject({ id, version: 1n });
    expect(parse(read1.payload)).toStrictEqual(v1);

    const updated = await client.update({ entityType, originator: { id, version: 1n }, payload: json(v2) });
    expect(updated.originator).toMatchObject({ id, version: 2n });
    const latest = await client.get({ entityType, originator: { id } });
    expect(latest.originator).toMatchObject({ id, version: 2n });
    expect(parse(latest.payload)).toStrictEqual(v2);
    const atV1 = await client.get({ entityType, originator: { id, version: 1n } });
    expect(atV1.originator).toMatchObject({ id, version: 1n });
    expect(parse(atV1.payload)).toStrictEqual(v1);

    const listed = await client.list({ entityType });
    expect(listed.nextPageToken).toBe("");
    expect(listed.results).toHaveLength(1);
    expect(listed.results[0]!.entityType).toBe(entityType);
    expect(listed.results[0]!.originator).toMatchObject({ id, version: 2n });
    expect(parse(listed.results[0]!.payload)).toStrictEqual(v2);

    const deleted = await client.delete({ entityType, originator: { id } });
    expect(deleted.originator).toMatchObject({ id, version: 3n });
    expect((await rejection(client.get({ entityType, originator: { id } }))).code).toBe(Code.NotFound);
    const tombstone = await client.get({ entityType, originator: { id }, deleted: true });
    expect(tombstone.originator).toMatchObject({ id, version: 3n });
    expect(parse(tombstone.payload)).toStrictEqual(v2);
    expect(await client.list({ entityType })).toMatchObject({ results: [], nextPageToken: "" });
  });

  it("History lists every revision oldest first with its action, time and document", async () => {
    const entityType = freshType();
    const started = Date.now();
    const id = await createDoc(client, entityType, { n: 1 });
    await client.update({ entityType, originator: { id, version: 1n }, payload: json({ n: 2, extra: [1, 2] }) });
    await client.delete({ entityType, originator: { id, version: 2n } });
    const finished = Date.now();

    const response = await client.history({ entityType, originatorId: id });
    expect(response.nextPageToken).toBe("");
    expect(response.revisions.map((r) => r.version)).toEqual([1n, 2n, 3n]);
    expect(response.revisions.map((r) => r.action)).toEqual([Action.CREATED, Action.UPDATED, Action.DELETED]);
    expect(response.revisions.map((r) => parse(r.payload))).toStrictEqual([
      { n: 1 },
      { n: 2, extra: [1, 2] },
      { n: 2, extra: [1, 2] },
    ]);
    const times = response.revisions.map((r) => timestampDate(r.occurredOn!).getTime());
    for (const time of times) {
      expect(time).toBeGreaterThanOrEqual(started - 1000);
      expect(time).toBeLessThanOrEqual(finished + 1000);
    }
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it("answers the gRPC health check with SERVING", async () => {
    const { health } = harness.clients(protocol);
    expect((await health.check({ service: "" })).status).toBe(ServingStatus.SERVING);
    expect((await health.check({ service: "eskit.crudstore.v1.CrudStoreService" })).status).toBe(ServingStatus.SERVING);
  });
});

describe("Create", () => {
  it("generates a UUID when no id is given, with or without an originator", async () => {
    const entityType = freshType();
    const ids = new Set<string>();
    for (const originator of [undefined, { id: "" }, { id: "", version: 1n }]) {
      const response = await crud.create({
        entityType,
        ...(originator ? { originator } : {}),
        payload: json({ a: 1 }),
      });
      expect(response.originator?.id).toMatch(uuidPattern);
      expect(response.originator?.version).toBe(1n);
      ids.add(response.originator!.id);
      const read = await crud.get({ entityType, originator: { id: response.originator!.id } });
      expect(parse(read.payload)).toStrictEqual({ a: 1 });
    }
    expect(ids.size).toBe(3);
  });

  it("accepts version 1 and rejects any other non-zero version with invalid_argument", async () => {
    const entityType = freshType();
    const id = freshId();
    expect(
      (await crud.create({ entityType, originator: { id, version: 1n }, payload: "{}" })).originator,
    ).toMatchObject({ id, version: 1n });
    for (const version of [2n, 7n]) {
      const other = freshId();
      const { code, message } = await rejection(
        crud.create({ entityType, originator: { id: other, version }, payload: "{}" }),
      );
      expect(code, message).toBe(Code.InvalidArgument);
      expect((await rejection(crud.get({ entityType, originator: { id: other } }))).code).toBe(Code.NotFound);
    }
  });

  it("rejects a payload that is not a JSON object with invalid_argument and stores nothing", async () => {
    const entityType = freshType();
    for (const payload of [
      "[]",
      '[{"a":1}]',
      "42",
      '"text"',
      "null",
      "true",
      "{",
      '{"a":1} x',
      "{'a':1}",
      "not json",
    ]) {
      const id = freshId();
      const { code, message } = await rejection(crud.create({ entityType, originator: { id }, payload }));
      expect(code, `${payload}: ${message}`).toBe(Code.InvalidArgument);
      expect(await eventStore.readEvents(id), payload).toEqual([]);
    }
  });

  it("rejects an empty payload with invalid_argument (it is not JSON text of an object)", async () => {
    const { code, message } = await rejection(
      crud.create({ entityType: freshType(), originator: { id: freshId() }, payload: "" }),
    );
    expect(code, message).toBe(Code.InvalidArgument);
  });

  it("rejects a request above maxRequestBytes with resource_exhausted, and the client's next call still works", async () => {
    const huge = json({ blob: "x".repeat(harness.config.maxRequestBytes * 2) });
    // A server that answers before reading the whole body must not leave a kept-alive connection half read: the
    // next call on it would fail. Whether it gets picked up in time is a race, hence several rounds.
    for (const protocol of protocols) {
      const client = harness.clients(protocol).crud;
      const entityType = freshType();
      for (let round = 0; round < 4; round++) {
        const { code, message } = await rejection(client.create({ entityType, payload: huge }));
        expect(code, `${protocol}: ${message}`).toBe(Code.ResourceExhausted);
        const next = await outcome(client.create({ entityType, payload: "{}" }));
        expect(next, `${protocol}, round ${round}: the call after the rejected one`).toBe("ok");
      }
    }
  });

  it("rejects an id the event store cannot keep with invalid_argument, over every protocol", async () => {
    for (const protocol of protocols) {
      const client = harness.clients(protocol).crud;
      for (const id of ["x".repeat(256), "nul\u0000inside"]) {
        const { code, message } = await rejection(
          client.create({ entityType: freshType(), originator: { id }, payload: "{}" }),
        );
        expect(code, `${protocol}, id of ${id.length} characters: ${message}`).toBe(Code.InvalidArgument);
      }
    }
  });

  it("rejects a missing or malformed entity type with invalid_argument", async () => {
    for (const entityType of ["", "has space", "star*", "tab\tin"]) {
      const { code, message } = await rejection(
        crud.create({ entityType, originator: { id: freshId() }, payload: "{}" }),
      );
      expect(code, `${JSON.stringify(entityType)}: ${message}`).toBe(Code.InvalidArgument);
    }
  });

  it("rejects an id that exists anywhere in the event store with already_exists, even in another type or deleted", async () => {
    const typeA = freshType();
    const typeB = freshType();
    const id = await createDoc(crud, typeA, { owner: "a" });
    for (const entityType of [typeA, typeB]) {
      for (const version of [0n, 1n]) {
        const error = await rejectionError(
          crud.create({ entityType, originator: { id, version }, payload: json({ owner: "b" }) }),
        );
        const { code, rawMessage: message } = error;
        expect(code, message).toBe(Code.AlreadyExists);
        expect(documentExistsOf(error)).toMatchObject({ entityType, id });
      }
    }
    expect(parse((await crud.get({ entityType: typeA, originator: { id } })).payload)).toStrictEqual({ owner: "a" });

    const deletedId = await createDoc(crud, typeA, { gone: true });
    await crud.delete({ entityType: typeA, originator: { id: deletedId } });
    expect(
      (await rejection(crud.create({ entityType: typeA, originator: { id: deletedId }, payload: "{}" }))).code,
    ).toBe(Code.AlreadyExists);

    // An originator some other writer keeps in the same event store.
    const foreign = freshId("foreign");
    await eventStore.appendEvents([
      { originatorId: foreign, version: 1n, eventType: "Account.Opened", payload: { balance: 0 } },
    ]);
    expect((await rejection(crud.create({ entityType: typeA, originator: { id: foreign }, payload: "{}" }))).code).toBe(
      Code.AlreadyExists,
    );
    expect(await eventStore.readEvents(foreign)).toHaveLength(1);
  });

  it("keeps the Event Store's meaning of its errors: a document too large for an event gives resource_exhausted", async () => {
    const big = json({ blob: "x".repeat(1_100_000) });
    for (const protocol of protocols) {
      const client = harness.clients(protocol).crud;
      const id = freshId();
      const { code, message } = await rejection(
        client.create({ entityType: freshType(), originator: { id }, payload: big }),
      );
      expect(code, `${protocol}: ${message}`).toBe(Code.ResourceExhausted);
      expect(await eventStore.readEvents(id)).toEqual([]);
    }
  });
});

describe("Update", () => {
  it("rejects version 0 or a missing originator with invalid_argument", async () => {
    const entityType = freshType();
    const id = await createDoc(crud, entityType, { a: 1 });
    for (const originator of [{ id, version: 0n }, { id }, undefined, { id: "", version: 1n }]) {
      const { code, message } = await rejection(
        crud.update({ entityType, ...(originator ? { originator } : {}), payload: json({ a: 2 }) }),
      );
      expect(
        code,
        `${JSON.stringify(originator, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v))}: ${message}`,
      ).toBe(Code.InvalidArgument);
    }
    expect(await eventStore.readEvents(id)).toHaveLength(1);
  });

  it("rejects a stale or future version with aborted and keeps the latest document", async () => {
    const entityType = freshType();
    const id = await createDoc(crud, entityType, { a: 1 });
    await crud.update({ entityType, originator: { id, version: 1n }, payload: json({ a: 2 }) });
    for (const version of [1n, 3n, 9n]) {
      const error = await rejectionError(
        crud.update({ entityType, originator: { id, version }, payload: json({ a: 99 }) }),
      );
      const { code, rawMessage: message } = error;
      expect(code, `version ${version}: ${message}`).toBe(Code.Aborted);
      // What a client acts on travels as a typed detail, not only in the text.
      expect(documentConflictOf(error)).toMatchObject({
        entityType,
        id,
        basedOnVersion: version,
        currentVersion: 2n,
      });
    }
    const read = await crud.get({ entityType, originator: { id } });
    expect(read.originator?.version).toBe(2n);
    expect(parse(read.payload)).toStrictEqual({ a: 2 });
  });

  it("rejects an unknown, deleted or other-type document with not_found", async () => {
    const entityType = freshType();
    const unknown = await rejection(
      crud.update({ entityType, originator: { id: freshId(), version: 1n }, payload: "{}" }),
    );
    expect(unknown.code, unknown.message).toBe(Code.NotFound);

    const deletedId = await createDoc(crud, entityType, { a: 1 });
    await crud.delete({ entityType, originator: { id: deletedId } });
    for (const version of [1n, 2n]) {
      for (const payload of [json({ a: 2 }), json({ a: 1 })]) {
        const deleted = await rejection(crud.update({ entityType, originator: { id: deletedId, version }, payload }));
        expect(deleted.code, `deleted, version ${version}, ${payload}: ${deleted.message}`).toBe(Code.NotFound);
      }
    }

    const otherId = await createDoc(crud, freshType(), { a: 1 });
    const other = await rejection(
      crud.update({ entityType, originator: { id: otherId, version: 1n }, payload: json({ a: 2 }) }),
    );
    expect(other.code, other.message).toBe(Code.NotFound);
    expect(await eventStore.readEvents(otherId)).toHaveLength(1);
  });

  it("rejects a payload that is not a JSON object with invalid_argument", async () => {
    const entityType = freshType();
    const id = await createDoc(crud, entityType, { a: 1 });
    for (const payload of ["[]", "1", "null", "{"]) {
      const { code, message } = await rejection(crud.update({ entityType, originator: { id, version: 1n }, payload }));
      expect(code, `${payload}: ${message}`).toBe(Code.InvalidArgument);
    }
    expect(await eventStore.readEvents(id)).toHaveLength(1);
  });

  it("rejects an identical document sent with a stale version with aborted: the caller has not seen the latest", async () => {
    const entityType = freshType();
    const id = await createDoc(crud, entityType, { a: 1 });
    await crud.update({ entityType, originator: { id, version: 1n }, payload: json({ a: 2 }) });
    const { code, message } = await rejection(
      crud.update({ entityType, originator: { id, version: 1n }, payload: json({ a: 2 }) }),
    );
    expect(code, message).toBe(Code.Aborted);
  });

  it("writes nothing for an identical document and returns the current version", async () => {
    const entityType = freshType();
    const doc = { a: 1, nested: { list: [1, { b: null }], empty: {} }, s: "x" };
    const id = await createDoc(crud, entityType, doc);
    await crud.update({ entityType, originator: { id, version: 1n }, payload: json({ ...doc, s: "y" }) });
    const current = { ...doc, s: "y" };
    const same = await crud.update({ entityType, originator: { id, version: 2n }, payload: json(current) });
    expect(same.originator).toMatchObject({ id, version: 2n });
    const spaced = await crud.update({
      entityType,
      originator: { id, version: 2n },
      payload: JSON.stringify(current, null, 2),
    });
    expect(spaced.originator).toMatchObject({ id, version: 2n });
    expect(await eventStore.readEvents(id)).toHaveLength(2);
    const history = await crud.history({ entityType, originatorId: id });
    expect(history.revisions.map((r) => r.version)).toEqual([1n, 2n]);
  });
});

describe("Delete", () => {
  it("deletes at the given latest version and answers the Deleted event's version", async () => {
    const entityType = freshType();
    const id = await createDoc(crud, entityType, { a: 1 });
    await crud.update({ entityType, originator: { id, version: 1n }, payload: json({ a: 2 }) });
    const deleted = await crud.delete({ entityType, originator: { id, version: 2n } });
    expect(deleted.originator).toMatchObject({ id, version: 3n });
  });

  it("rejects a stale or future version with aborted and leaves the document live", async () => {
    const entityType = freshType();
    const id = await createDoc(crud, entityType, { a: 1 });
    await crud.update({ entityType, originator: { id, version: 1n }, payload: json({ a: 2 }) });
    for (const version of [1n, 5n]) {
      const { code, message } = await rejection(crud.delete({ entityType, originator: { id, version } }));
      expect(code, `version ${version}: ${message}`).toBe(Code.Aborted);
    }
    expect((await crud.get({ entityType, originator: { id } })).originator?.version).toBe(2n);
  });

  it("rejects an already deleted, unknown or other-type document with not_found", async () => {
    const entityType = freshType();
    const id = await createDoc(crud, entityType, { a: 1 });
    await crud.delete({ entityType, originator: { id } });
    for (const originator of [{ id }, { id, version: 2n }]) {
      const again = await rejection(crud.delete({ entityType, originator }));
      expect(again.code, again.message).toBe(Code.NotFound);
    }
    const unknown = await rejection(crud.delete({ entityType, originator: { id: freshId() } }));
    expect(unknown.code, unknown.message).toBe(Code.NotFound);
    const otherId = await createDoc(crud, freshType(), { a: 1 });
    const other = await rejection(crud.delete({ entityType, originator: { id: otherId } }));
    expect(other.code, other.message).toBe(Code.NotFound);
    expect(await eventStore.readEvents(otherId)).toHaveLength(1);
    expect(await eventStore.readEvents(id)).toHaveLength(2);
  });

  it("rejects a missing id with invalid_argument", async () => {
    const entityType = freshType();
    for (const request of [{ entityType }, { entityType, originator: { id: "" } }]) {
      const { code, message } = await rejection(crud.delete(request));
      expect(code, message).toBe(Code.InvalidArgument);
    }
  });
});

describe("Get", () => {
  it("reads the document right after each version, and not_found beyond the latest", async () => {
    const entityType = freshType();
    const docs = [{ step: 1 }, { step: 2, added: { deep: [1, 2, 3] } }, { step: 3 }, { step: 4, added: null }];
    const id = await createDoc(crud, entityType, docs[0]);
    for (let i = 1; i < docs.length; i++) {
      await crud.update({ entityType, originator: { id, version: BigInt(i) }, payload: json(docs[i]) });
    }
    for (let i = 0; i < docs.length; i++) {
      const read = await crud.get({ entityType, originator: { id, version: BigInt(i + 1) } });
      expect(read.originator).toMatchObject({ id, version: BigInt(i + 1) });
      expect(parse(read.payload), `version ${i + 1}`).toStrictEqual(docs[i]);
    }
    const latest = await crud.get({ entityType, originator: { id, version: 0n } });
    expect(latest.originator).toMatchObject({ id, version: 4n });
    expect(parse(latest.payload)).toStrictEqual(docs[3]);
    for (const version of [5n, 100n]) {
      const { code, message } = await rejection(crud.get({ entityType, originator: { id, version } }));
      expect(code, `version ${version}: ${message}`).toBe(Code.NotFound);
    }
  });

  it("answers not_found for an unknown id, a document of another type and a foreign originator", async () => {
    const entityType = freshType();
    expect((await rejection(crud.get({ entityType, originator: { id: freshId() } }))).code).toBe(Code.NotFound);
    const otherId = await createDoc(crud, freshType(), { a: 1 });
    expect((await rejection(crud.get({ entityType, originator: { id: otherId } }))).code).toBe(Code.NotFound);
    expect((await rejection(crud.get({ entityType, originator: { id: otherId }, deleted: true }))).code).toBe(
      Code.NotFound,
    );
    expect((await rejection(crud.get({ entityType, originator: { id: otherId, version: 1n } }))).code).toBe(
      Code.NotFound,
    );
  });

  it("rejects a missing id with invalid_argument", async () => {
    const entityType = freshType();
    for (const request of [{ entityType }, { entityType, originator: { id: "" } }]) {
      const { code, message } = await rejection(crud.get(request));
      expect(code, message).toBe(Code.InvalidArgument);
    }
  });

  it("reads a deleted document only with deleted=true, as its last state, and earlier versions as usual", async () => {
    const entityType = freshType();
    const id = await createDoc(crud, entityType, { v: 1 });
    await crud.update({ entityType, originator: { id, version: 1n }, payload: json({ v: 2 }) });
    await crud.delete({ entityType, originator: { id, version: 2n } });

    for (const version of [0n, 3n]) {
      const hidden = await rejection(crud.get({ entityType, originator: { id, version } }));
      expect(hidden.code, `version ${version}: ${hidden.message}`).toBe(Code.NotFound);
      const shown = await crud.get({ entityType, originator: { id, version }, deleted: true });
      expect(shown.originator, `version ${version}`).toMatchObject({ id, version: 3n });
      expect(parse(shown.payload)).toStrictEqual({ v: 2 });
    }
    for (const deleted of [false, true]) {
      const before = await crud.get({ entityType, originator: { id, version: 1n }, deleted });
      expect(before.originator).toMatchObject({ id, version: 1n });
      expect(parse(before.payload)).toStrictEqual({ v: 1 });
      const atTwo = await crud.get({ entityType, originator: { id, version: 2n }, deleted });
      expect(atTwo.originator).toMatchObject({ id, version: 2n });
      expect(parse(atTwo.payload)).toStrictEqual({ v: 2 });
    }
    const beyond = await rejection(crud.get({ entityType, originator: { id, version: 4n }, deleted: true }));
    expect(beyond.code, beyond.message).toBe(Code.NotFound);

    const live = await createDoc(crud, entityType, { live: true });
    const read = await crud.get({ entityType, originator: { id: live }, deleted: true });
    expect(read.originator).toMatchObject({ id: live, version: 1n });
    expect(parse(read.payload)).toStrictEqual({ live: true });
  });
});

describe("List", () => {
  it("pages through the live documents of one type in id order, each once, with their latest version", async () => {
    const entityType = freshType();
    const ids = ["b-2", "a-1", "e-5", "c-3", "d-4"].map((suffix) => `${freshId("list")}-${suffix}`);
    // A type whose name extends this one's must not leak in.
    await createDoc(crud, `${entityType}X`, { other: true });
    await createDoc(crud, freshType(), { other: true });
    for (const [i, id] of ids.entries()) await createDoc(crud, entityType, { i }, id);
    await crud.update({ entityType, originator: { id: ids[0]!, version: 1n }, payload: json({ i: 0, updated: true }) });

    const pages = await listAll(crud, entityType, 2);
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
    const results = pages.flat();
    const expectedOrder = [...ids].sort();
    expect(results.map((r) => r.originator?.id)).toEqual(expectedOrder);
    for (const result of results) {
      expect(result.entityType).toBe(entityType);
      const i = ids.indexOf(result.originator!.id);
      expect(result.originator?.version).toBe(i === 0 ? 2n : 1n);
      expect(parse(result.payload)).toStrictEqual(i === 0 ? { i: 0, updated: true } : { i });
    }

    const first = await crud.list({ entityType, limit: 2 });
    expect(first.nextPageToken).not.toBe("");
    const whole = await crud.list({ entityType, limit: 1000 });
    expect(whole.nextPageToken).toBe("");
    expect(whole.results.map((r) => r.originator?.id)).toEqual(expectedOrder);
  });

  it("leaves deleted documents out", async () => {
    const entityType = freshType();
    const ids = [];
    for (let i = 0; i < 6; i++) ids.push(await createDoc(crud, entityType, { i }));
    await crud.delete({ entityType, originator: { id: ids[1]! } });
    await crud.delete({ entityType, originator: { id: ids[4]! } });
    const listed = (await listAll(crud, entityType, 2)).flat().map((r) => r.originator?.id);
    expect(listed).toEqual([ids[0], ids[2], ids[3], ids[5]].sort());
    await crud.delete({ entityType, originator: { id: ids[0]! } });
    await crud.delete({ entityType, originator: { id: ids[2]! } });
    await crud.delete({ entityType, originator: { id: ids[3]! } });
    await crud.delete({ entityType, originator: { id: ids[5]! } });
    expect(await crud.list({ entityType })).toMatchObject({ results: [], nextPageToken: "" });
  });

  it("returns 10 documents per page when the limit is 0, and no payloads with skip_payload", async () => {
    const entityType = freshType();
    const ids = [];
    for (let i = 0; i < 12; i++) ids.push(await createDoc(crud, entityType, { i }));
    const first = await crud.list({ entityType, limit: 0 });
    expect(first.results).toHaveLength(10);
    expect(first.nextPageToken).not.toBe("");
    const second = await crud.list({ entityType, limit: 0, pageToken: first.nextPageToken });
    expect(second.results).toHaveLength(2);
    expect(second.nextPageToken).toBe("");

    const bare = (await listAll(crud, entityType, 5, true)).flat();
    expect(bare.map((r) => r.originator?.id)).toEqual([...ids].sort());
    for (const result of bare) {
      expect(result.payload).toBe("");
      expect(result.originator?.version).toBe(1n);
      expect(result.entityType).toBe(entityType);
    }
  });

  it("answers an empty page for a type without documents", async () => {
    expect(await crud.list({ entityType: freshType() })).toMatchObject({ results: [], nextPageToken: "" });
  });

  it("rejects a limit above 1000 or a malformed page token with invalid_argument", async () => {
    const entityType = freshType();
    await createDoc(crud, entityType, {});
    for (const limit of [1001, 5000]) {
      const { code, message } = await rejection(crud.list({ entityType, limit }));
      expect(code, `limit ${limit}: ${message}`).toBe(Code.InvalidArgument);
    }
    for (const pageToken of ["garbage!!", "%%%", "eyJub3QiOiJhIHRva2VuIn0"]) {
      const { code, message } = await rejection(crud.list({ entityType, pageToken }));
      expect(code, `page token ${pageToken}: ${message}`).toBe(Code.InvalidArgument);
    }
    expect((await rejection(crud.list({ entityType: "" }))).code).toBe(Code.InvalidArgument);
  });
});

describe("History", () => {
  it("pages through the revisions, 10 per page by default", async () => {
    const entityType = freshType();
    const id = await createDoc(crud, entityType, { n: 1 });
    for (let n = 2; n <= 12; n++) {
      await crud.update({ entityType, originator: { id, version: BigInt(n - 1) }, payload: json({ n }) });
    }
    const pages = await historyAll(crud, entityType, id, 5);
    expect(pages.map((p) => p.length)).toEqual([5, 5, 2]);
    const revisions = pages.flat();
    expect(revisions.map((r) => r.version)).toEqual(Array.from({ length: 12 }, (_, i) => BigInt(i + 1)));
    expect(revisions.map((r) => r.action)).toEqual([Action.CREATED, ...Array<Action>(11).fill(Action.UPDATED)]);
    expect(revisions.map((r) => parse(r.payload))).toStrictEqual(Array.from({ length: 12 }, (_, i) => ({ n: i + 1 })));

    const first = await crud.history({ entityType, originatorId: id });
    expect(first.revisions).toHaveLength(10);
    expect(first.nextPageToken).not.toBe("");
    const rest = await crud.history({ entityType, originatorId: id, pageToken: first.nextPageToken });
    expect(rest.revisions.map((r) => r.version)).toEqual([11n, 12n]);
    expect(rest.nextPageToken).toBe("");
  });

  it("answers not_found for an unknown id or a document of another type", async () => {
    const entityType = freshType();
    expect((await rejection(crud.history({ entityType, originatorId: freshId() }))).code).toBe(Code.NotFound);
    const otherId = await createDoc(crud, freshType(), { a: 1 });
    expect((await rejection(crud.history({ entityType, originatorId: otherId }))).code).toBe(Code.NotFound);
  });

  it("rejects a missing id, a limit above 1000 or a malformed page token with invalid_argument", async () => {
    const entityType = freshType();
    const id = await createDoc(crud, entityType, { a: 1 });
    const requests = [
      { entityType, originatorId: "" },
      { entityType, originatorId: id, limit: 1001 },
      { entityType, originatorId: id, pageToken: "garbage!!" },
    ];
    for (const request of requests) {
      const { code, message } = await rejection(crud.history(request));
      expect(code, `${JSON.stringify(request)}: ${message}`).toBe(Code.InvalidArgument);
    }
  });
});

describe("how documents are kept in the event store", () => {
  it("writes Created, Updated (merge patch or whole document) and Deleted events marked as the crud store's", async () => {
    const entityType = freshType();
    const id = freshId();
    const filler = "unchanged ".repeat(50);
    const v1 = { name: "Grace", address: { city: "Arlington", zip: "22201" }, tags: ["navy", "cobol"], filler };
    const v2 = { ...v1, address: { city: "Arlington", zip: "22202" } }; // a small change: a patch
    const v3 = { ...v2, nickname: null }; // an explicit null a merge patch would delete: the whole document
    const v4 = { name: "Grace", address: v2.address, filler }; // keys removed: a patch with nulls
    const v5 = { ...v4, address: { ...v4.address, line2: null } }; // a nested explicit null: the whole document
    const docs = [v1, v2, v3, v4, v5];
    await crud.create({ entityType, originator: { id }, payload: json(v1) });
    for (let i = 1; i < docs.length; i++) {
      const response = await crud.update({
        entityType,
        originator: { id, version: BigInt(i) },
        payload: json(docs[i]),
      });
      expect(response.originator?.version).toBe(BigInt(i + 1));
    }
    await crud.delete({ entityType, originator: { id, version: 5n } });

    const events = await eventStore.readEvents(id);
    expect(events.map((e) => e.eventType)).toEqual([
      `${entityType}.Created`,
      `${entityType}.Updated`,
      `${entityType}.Updated`,
      `${entityType}.Updated`,
      `${entityType}.Updated`,
      `${entityType}.Deleted`,
    ]);
    expect(events.map((e) => e.originator?.version)).toEqual([1n, 2n, 3n, 4n, 5n, 6n]);
    for (const event of events) expect(event.metadata["eskit.source"], event.eventType).toBe("crud-store");
    expect(parse(events[0]!.payload)).toStrictEqual(v1);

    const [, patch2, doc3, patch4, doc5] = events;
    expect(patch2!.metadata["eskit.encoding"]).toBe("merge-patch");
    const p2 = parse(patch2!.payload);
    expect(applyMergePatch(v1, p2)).toStrictEqual(v2);
    expect(p2).not.toHaveProperty("filler");
    expect(p2).not.toHaveProperty("tags");

    expect(doc3!.metadata["eskit.encoding"]).toBe("document");
    expect(parse(doc3!.payload)).toStrictEqual(v3);

    expect(patch4!.metadata["eskit.encoding"]).toBe("merge-patch");
    const p4 = parse(patch4!.payload);
    expect(applyMergePatch(v3, p4)).toStrictEqual(v4);
    expect(p4).toMatchObject({ tags: null, nickname: null });
    expect(p4).not.toHaveProperty("filler");

    expect(doc5!.metadata["eskit.encoding"]).toBe("document");
    expect(parse(doc5!.payload)).toStrictEqual(v5);

    for (let i = 0; i < docs.length; i++) {
      const read = await crud.get({ entityType, originator: { id, version: BigInt(i + 1) } });
      expect(parse(read.payload), `version ${i + 1}`).toStrictEqual(docs[i]);
    }
  });
});

describe("health", () => {
  it("answers 200 on /healthz while the event store is reachable", async () => {
    expect(await healthz(harness.url)).toEqual({ status: 200, body: { status: "ok" } });
  });
});
