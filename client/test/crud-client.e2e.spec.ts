/**
 * The typed CrudClient against real servers: a Crud Store on an Event Store (PGlite, or PostgreSQL when
 * DATABASE_URL is set), over Connect with JSON on HTTP/1.1 (as a browser) and gRPC with binary on HTTP/2 (as
 * another service). Each protocol gets its own servers, so listings see only that run's documents.
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { Action } from "@eskit/gen/eskit/crudstore/v1/crud_store_pb.js";
import { TestNoteSchema, TestUserSchema, type TestUser } from "@eskit/gen/eskit/testing/v1/test_user_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCrudStore, type RunningCrudStore } from "@eskit/crud-store/app.js";
import { loadConfig } from "@eskit/crud-store/config.js";
import { startTestEventStore, type TestEventStore } from "@eskit/test-kit/event-store.js";
import { createCrudClient, type CrudClient } from "../src/crud-client.js";
import { createNodeTransport, type NodeTransport } from "../src/node.js";

function user(name: string, id?: string): TestUser {
  return create(TestUserSchema, {
    ...(id !== undefined ? { originator: { id } } : {}),
    name,
    age: 9007199254740993n,
    tags: ["a", "b"],
    address: { street: "Main St 1", postalCode: "8000", city: "Zürich" },
    labels: { team: "core" },
    bornOn: timestampFromDate(new Date("1990-05-17T08:30:00.250Z")),
  });
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

describe.each([
  ["connect", "1.1", false],
  ["grpc", "2", true],
] as const)("CrudClient over %s (HTTP/%s)", (protocol, httpVersion, binary) => {
  let eventStore: TestEventStore | undefined;
  let crudStore: RunningCrudStore | undefined;
  let transport: NodeTransport | undefined;
  let client: CrudClient;

  beforeAll(async () => {
    eventStore = await startTestEventStore();
    crudStore = await startCrudStore({ ...loadConfig({}), port: 0, host: "127.0.0.1", eventStoreUrl: eventStore.url });
    transport = createNodeTransport({ baseUrl: crudStore.url, protocol, httpVersion, binary });
    client = createCrudClient(transport);
  });

  afterAll(async () => {
    transport?.close();
    await crudStore?.close();
    await eventStore?.stop();
  });

  it("create then get returns the message with its originator; the stored JSON has no originator", async () => {
    const created = await client.create(TestUserSchema, user("Ada"));
    expect(created.originator.id).not.toBe("");
    expect(created.originator.version).toBe(1n);
    expect(created.message.originator?.id).toBe(created.originator.id);

    const got = await client.get(TestUserSchema, created.originator.id);
    expect(got.message).toEqual(created.message);

    const raw = await client.service.get({
      entityType: TestUserSchema.typeName,
      originator: { id: created.originator.id },
    });
    expect(JSON.parse(raw.payload)).toEqual({
      name: "Ada",
      age: "9007199254740993",
      tags: ["a", "b"],
      address: { street: "Main St 1", postalCode: "8000", city: "Zürich" },
      labels: { team: "core" },
      bornOn: "1990-05-17T08:30:00.250Z",
    });
  });

  it("update moves to the next version and the old version stays readable", async () => {
    const { message } = await client.create(TestUserSchema, user("Bob", "bob"));
    const updated = await client.update(TestUserSchema, { ...message, name: "Robert", tags: ["c"] });
    expect([updated.originator.id, updated.originator.version, updated.message.originator?.version]).toEqual([
      "bob",
      2n,
      2n,
    ]);

    const latest = await client.get(TestUserSchema, "bob");
    expect([latest.message.name, latest.message.tags, latest.originator.version]).toEqual(["Robert", ["c"], 2n]);
    const first = await client.get(TestUserSchema, "bob", { version: 1n });
    expect([first.message.name, first.message.tags, first.message.originator?.version]).toEqual([
      "Bob",
      ["a", "b"],
      1n,
    ]);
  });

  it("an update from a stale version is aborted and changes nothing", async () => {
    const { message } = await client.create(TestUserSchema, user("Cy", "cy"));
    await client.update(TestUserSchema, { ...message, name: "Cy 2" });
    await expect(client.update(TestUserSchema, { ...message, name: "Cy stale" })).rejects.toMatchObject({
      code: Code.Aborted,
    });
    const latest = await client.get(TestUserSchema, "cy");
    expect([latest.message.name, latest.originator.version]).toEqual(["Cy 2", 2n]);
  });

  it("list pages through every live document in id order", async () => {
    const ids = ["list-05", "list-01", "list-07", "list-03", "list-02", "list-06", "list-04"];
    for (const id of ids) await client.create(TestUserSchema, user(`User ${id}`, id));

    const firstPage = await client.listPage(TestUserSchema, { limit: 3 });
    expect(firstPage.documents).toHaveLength(3);
    expect(firstPage.nextPageToken).not.toBe("");

    const listed = await collect(client.list(TestUserSchema, { limit: 3 }));
    const listedIds = listed.map((d) => d.originator.id);
    expect(listedIds).toEqual([...listedIds].sort());
    expect(new Set(listedIds).size).toBe(listedIds.length);
    const ours = listed.filter((d) => d.originator.id.startsWith("list-"));
    expect(ours.map((d) => [d.message.originator?.id, d.message.originator?.version, d.message.name])).toEqual(
      [...ids].sort().map((id) => [id, 1n, `User ${id}`]),
    );

    const bare = await collect(client.list(TestUserSchema, { limit: 2, skipPayload: true }));
    expect(bare.map((d) => d.originator.id)).toEqual(listedIds);
    expect(bare.every((d) => d.message.name === "" && d.message.originator?.id === d.originator.id)).toBe(true);
  });

  it("history lists every revision oldest first, across pages, ending with the deletion", async () => {
    const { message } = await client.create(TestUserSchema, user("H1", "hist"));
    let current = message;
    for (const name of ["H2", "H3", "H4"]) {
      current = (await client.update(TestUserSchema, { ...current, name })).message;
    }
    const deleted = await client.delete(TestUserSchema, current.originator ?? "hist");
    expect([deleted.id, deleted.version]).toEqual(["hist", 5n]);

    const before = Date.now();
    const revisions = await collect(client.history(TestUserSchema, "hist", { limit: 2 }));
    expect(revisions.map((r) => [r.version, r.action, r.message.name, r.message.originator?.version])).toEqual([
      [1n, Action.CREATED, "H1", 1n],
      [2n, Action.UPDATED, "H2", 2n],
      [3n, Action.UPDATED, "H3", 3n],
      [4n, Action.UPDATED, "H4", 4n],
      [5n, Action.DELETED, "H4", 5n],
    ]);
    const times = revisions.map((r) => r.occurredOn?.getTime() ?? Number.NaN);
    expect(times.every((t, i) => t <= before && (i === 0 || t >= (times[i - 1] ?? 0)))).toBe(true);
  });

  it("delete hides a document from get and list, while get with deleted reads its last state", async () => {
    const { originator } = await client.create(TestUserSchema, user("Gone", "gone"));
    const deleted = await client.delete(TestUserSchema, "gone");
    expect([deleted.id, deleted.version]).toEqual(["gone", 2n]);

    await expect(client.get(TestUserSchema, "gone")).rejects.toMatchObject({ code: Code.NotFound });
    const last = await client.get(TestUserSchema, "gone", { deleted: true });
    expect(last.message.name).toBe("Gone");
    const listedIds = (await collect(client.list(TestUserSchema, { limit: 1000 }))).map((d) => d.originator.id);
    expect(listedIds).not.toContain("gone");
    await expect(client.delete(TestUserSchema, originator)).rejects.toMatchObject({ code: Code.NotFound });
  });

  it("reading or deleting an unknown document is not_found; creating an existing id is already_exists", async () => {
    await expect(client.get(TestUserSchema, "nobody")).rejects.toMatchObject({ code: Code.NotFound });
    await expect(client.delete(TestUserSchema, "nobody")).rejects.toMatchObject({ code: Code.NotFound });
    await client.create(TestUserSchema, user("Twin", "twin"));
    await expect(client.create(TestUserSchema, user("Twin", "twin"))).rejects.toMatchObject({
      code: Code.AlreadyExists,
    });
  });

  it("a registered JSON Schema applies to the message's JSON; types are read and listed by full name", async () => {
    await client.registerType(TestNoteSchema, { jsonSchema: { type: "object", required: ["text"] } });
    await client.registerType(TestNoteSchema, { skipDuplicate: true });

    await expect(client.create(TestNoteSchema, create(TestNoteSchema))).rejects.toMatchObject({
      code: Code.InvalidArgument,
    });
    const note = await client.create(TestNoteSchema, create(TestNoteSchema, { text: "hello" }), { id: "note-1" });
    expect([note.originator.id, note.message.text]).toEqual(["note-1", "hello"]);

    await client.updateType(TestNoteSchema, { schemaVersion: 2n, jsonSchema: { type: "object" } });
    const spec = await client.getType(TestNoteSchema);
    expect([spec.entityType, spec.schemaSpec?.schemaVersion]).toEqual(["eskit.testing.v1.TestNote", 2n]);
    expect(JSON.parse(spec.schemaSpec?.jsonSchema ?? "")).toEqual({ type: "object" });
    await client.create(TestNoteSchema, create(TestNoteSchema), { id: "note-2" });

    const types = await collect(client.listTypes({ limit: 1 }));
    expect(types.map((t) => t.entityType)).toContain("eskit.testing.v1.TestNote");
  });
});
