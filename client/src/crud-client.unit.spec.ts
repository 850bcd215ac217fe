import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  Action,
  type CreateRequest,
  type DeleteRequest,
  type GetRequest,
  type HistoryRequest,
  type ListRequest,
  type ListTypesRequest,
  type RegisterTypeRequest,
  type UpdateRequest,
  type UpdateTypeRequest,
} from "@eskit/gen/eskit/crudstore/v1/crud_store_pb.js";
import { OriginatorSchema } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import {
  TestBadOriginatorSchema,
  TestLegacyUserSchema,
  TestNoteSchema,
  TestUserSchema,
  type TestUser,
} from "@eskit/gen/eskit/testing/v1/test_user_pb.js";
import { describe, expect, it } from "vitest";
import { changeTime, inMemoryCrudStore } from "../test/in-memory-crud-store.js";
import { createCrudClient } from "./crud-client.js";

const userType = "eskit.testing.v1.TestUser";

/** A user with every kind of field set; `init` overrides the name or sets the originator. */
function ada(init: { name?: string; originator?: { id: string; version?: bigint } } = {}): TestUser {
  return create(TestUserSchema, {
    name: "Ada",
    age: 9007199254740993n,
    tags: ["math", "engines"],
    address: { street: "St James's Square 12", postalCode: "SW1Y", city: "London" },
    labels: { team: "analytical" },
    bornOn: timestampFromDate(new Date("1815-12-10T00:00:00Z")),
    ...init,
  });
}

/** A store, and a client over it; `calls()` counts the requests that reached the store. */
function setup(overrides: Parameters<ReturnType<typeof inMemoryCrudStore>["transport"]>[0] = {}) {
  const store = inMemoryCrudStore();
  const client = createCrudClient(store.transport(overrides));
  return { store, client, calls: () => store.requests.length };
}

describe("create", () => {
  it("sends the proto3 JSON of the message without its originator, under the message's full name", async () => {
    const { store, client } = setup();
    await client.create(TestUserSchema, ada({ originator: { id: "ada", version: 0n } }));
    const [sent] = store.requestsOf<CreateRequest>("create");
    expect(sent?.entityType).toBe(userType);
    expect([sent?.originator?.id, sent?.originator?.version]).toEqual(["ada", 0n]);
    expect(sent?.payload).toBe(
      '{"name":"Ada","age":"9007199254740993","tags":["math","engines"],' +
        '"address":{"street":"St James\'s Square 12","postalCode":"SW1Y","city":"London"},' +
        '"labels":{"team":"analytical"},"bornOn":"1815-12-10T00:00:00Z"}',
    );
  });

  it("returns a copy with the generated originator filled and leaves the caller's message alone", async () => {
    const { store, client } = setup();
    const input = ada();
    const created = await client.create(TestUserSchema, input);
    expect(store.requestsOf<CreateRequest>("create")[0]?.originator).toBeUndefined();
    expect([created.originator.id, created.originator.version]).toEqual(["generated-1", 1n]);
    expect(created.message.originator).toEqual(create(OriginatorSchema, { id: "generated-1", version: 1n }));
    expect(created.message.name).toBe("Ada");
    expect(input.originator).toBeUndefined();
  });

  it("takes the id from options for a message without an originator field", async () => {
    const { store, client } = setup();
    const created = await client.create(TestNoteSchema, create(TestNoteSchema, { text: "hi" }), { id: "note-1" });
    expect(store.requestsOf<CreateRequest>("create")[0]?.payload).toBe('{"text":"hi"}');
    expect([created.originator.id, created.originator.version]).toEqual(["note-1", 1n]);
    expect(created.message.text).toBe("hi");
  });

  it("rejects two different ids with invalid_argument before any call", async () => {
    const { client, calls } = setup();
    await expect(client.create(TestUserSchema, ada({ originator: { id: "a" } }), { id: "b" })).rejects.toMatchObject({
      code: Code.InvalidArgument,
    });
    expect(calls()).toBe(0);
  });

  it("writes zero values too with alwaysEmitImplicit", async () => {
    const store = inMemoryCrudStore();
    const client = createCrudClient(store.transport(), { alwaysEmitImplicit: true });
    await client.create(TestUserSchema, create(TestUserSchema, { name: "Z" }));
    expect(store.requestsOf<CreateRequest>("create")[0]?.payload).toBe('{"name":"Z","age":"0","tags":[],"labels":{}}');
  });
});

describe("get", () => {
  it("decodes every field back and fills the originator from the response", async () => {
    const { client } = setup();
    const { originator } = await client.create(TestUserSchema, ada());
    const got = await client.get(TestUserSchema, originator.id);
    expect(got.message).toEqual(ada({ originator: create(OriginatorSchema, { id: originator.id, version: 1n }) }));
    expect(got.originator).toEqual(create(OriginatorSchema, { id: originator.id, version: 1n }));
  });

  it("ignores unknown fields and any originator copy inside the stored JSON, whatever its shape", async () => {
    const { client } = setup({
      get: (req) => ({
        originator: { id: req.originator?.id ?? "", version: 7n },
        payload: '{"name":"B","addedLater":true,"originator":"old"}',
      }),
    });
    const got = await client.get(TestUserSchema, "b");
    expect(got.message.name).toBe("B");
    expect([got.message.originator?.id, got.message.originator?.version]).toEqual(["b", 7n]);
  });

  it("asks for a version and deleted documents when told to", async () => {
    const { store, client } = setup();
    await client.get(TestUserSchema, "x", { version: 3n, deleted: true }).catch(() => undefined);
    await client.get(TestUserSchema, { id: "y", version: 2n }).catch(() => undefined);
    const sent = store.requestsOf<GetRequest>("get").map((r) => [r.originator?.id, r.originator?.version, r.deleted]);
    expect(sent).toEqual([
      ["x", 3n, true],
      ["y", 2n, false],
    ]);
  });

  it("rejects a version given twice differently, and an empty id, before any call", async () => {
    const { client, calls } = setup();
    await expect(client.get(TestUserSchema, { id: "y", version: 2n }, { version: 3n })).rejects.toMatchObject({
      code: Code.InvalidArgument,
    });
    await expect(client.get(TestUserSchema, "")).rejects.toMatchObject({ code: Code.InvalidArgument });
    expect(calls()).toBe(0);
  });

  it("passes the server's not_found through unchanged", async () => {
    const { client } = setup();
    const err = await client.get(TestUserSchema, "nobody").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect(err).toMatchObject({ code: Code.NotFound, rawMessage: `${userType} nobody not found` });
  });

  it("reports a payload that does not fit the schema as internal", async () => {
    const { client } = setup({ get: () => ({ originator: { id: "x", version: 1n }, payload: '{"age":"old"}' }) });
    await expect(client.get(TestUserSchema, "x")).rejects.toMatchObject({ code: Code.Internal });
  });
});

describe("update", () => {
  it("sends the id and version of the message's originator and returns the new version", async () => {
    const { store, client } = setup();
    const { message } = await client.create(TestUserSchema, ada());
    message.name = "Ada Lovelace";
    const updated = await client.update(TestUserSchema, message);
    const [sent] = store.requestsOf<UpdateRequest>("update");
    expect([sent?.originator?.id, sent?.originator?.version]).toEqual(["generated-1", 1n]);
    expect(JSON.parse(sent?.payload ?? "")).not.toHaveProperty("originator");
    expect(JSON.parse(sent?.payload ?? "")).toMatchObject({ name: "Ada Lovelace" });
    expect([updated.originator.version, updated.message.originator?.version, updated.message.name]).toEqual([
      2n,
      2n,
      "Ada Lovelace",
    ]);
    expect(message.originator?.version).toBe(1n);
  });

  it("passes aborted through for a stale version", async () => {
    const { client } = setup();
    const { message } = await client.create(TestUserSchema, ada());
    await client.update(TestUserSchema, message);
    await expect(client.update(TestUserSchema, message)).rejects.toMatchObject({ code: Code.Aborted });
  });

  it("rejects a message without id or without version with invalid_argument before any call", async () => {
    const { client, calls } = setup();
    await expect(client.update(TestUserSchema, ada())).rejects.toMatchObject({ code: Code.InvalidArgument });
    await expect(client.update(TestUserSchema, ada({ originator: { id: "a" } }))).rejects.toMatchObject({
      code: Code.InvalidArgument,
    });
    await expect(client.update(TestNoteSchema, create(TestNoteSchema))).rejects.toMatchObject({
      code: Code.InvalidArgument,
    });
    expect(calls()).toBe(0);
  });

  it("takes the originator from options for a message without an originator field", async () => {
    const { client } = setup();
    const { originator } = await client.create(TestNoteSchema, create(TestNoteSchema, { text: "a" }));
    const updated = await client.update(TestNoteSchema, create(TestNoteSchema, { text: "b" }), { originator });
    expect(updated.originator.version).toBe(2n);
    expect((await client.get(TestNoteSchema, originator.id)).message.text).toBe("b");
  });
});

describe("delete", () => {
  it("resolves to the Deleted revision's originator, sending the version only when given", async () => {
    const { store, client } = setup();
    const { originator } = await client.create(TestUserSchema, ada());
    const deleted = await client.delete(TestUserSchema, originator);
    expect([deleted.id, deleted.version]).toEqual([originator.id, 2n]);
    await expect(client.delete(TestUserSchema, "nobody")).rejects.toMatchObject({ code: Code.NotFound });
    const sent = store
      .requestsOf<DeleteRequest>("delete")
      .map((r) => [r.entityType, r.originator?.id, r.originator?.version]);
    expect(sent).toEqual([
      [userType, originator.id, 1n],
      [userType, "nobody", 0n],
    ]);
  });
});

describe("list", () => {
  it("follows next_page_token through every page and fills each message's originator", async () => {
    const { store, client } = setup();
    for (const id of ["e", "a", "d", "b", "c"]) {
      await client.create(TestUserSchema, ada({ name: id.toUpperCase(), originator: { id } }));
    }
    const seen: Array<[string | undefined, bigint | undefined, string]> = [];
    for await (const doc of client.list(TestUserSchema, { limit: 2 })) {
      seen.push([doc.message.originator?.id, doc.message.originator?.version, doc.message.name]);
    }
    expect(seen).toEqual([
      ["a", 1n, "A"],
      ["b", 1n, "B"],
      ["c", 1n, "C"],
      ["d", 1n, "D"],
      ["e", 1n, "E"],
    ]);
    const sent = store.requestsOf<ListRequest>("list").map((r) => [r.entityType, r.pageToken, r.limit]);
    expect(sent).toEqual([
      [userType, "", 2],
      [userType, "b", 2],
      [userType, "d", 2],
    ]);
  });

  it("requests no further page once the loop breaks", async () => {
    const { store, client } = setup();
    for (const id of ["a", "b", "c"]) await client.create(TestUserSchema, ada({ originator: { id } }));
    for await (const doc of client.list(TestUserSchema, { limit: 1 })) {
      expect(doc.originator.id).toBe("a");
      break;
    }
    expect(store.requestsOf<ListRequest>("list")).toHaveLength(1);
  });

  it("with skipPayload yields default messages that carry only their originator", async () => {
    const { store, client } = setup();
    await client.create(TestUserSchema, ada({ originator: { id: "a" } }));
    const docs = [];
    for await (const doc of client.list(TestUserSchema, { skipPayload: true })) docs.push(doc.message);
    expect(store.requestsOf<ListRequest>("list")[0]?.skipPayload).toBe(true);
    expect(docs).toEqual([create(TestUserSchema, { originator: { id: "a", version: 1n } })]);
  });

  it("listPage returns one page and its token", async () => {
    const { client } = setup();
    for (const id of ["a", "b", "c"]) await client.create(TestUserSchema, ada({ originator: { id } }));
    const first = await client.listPage(TestUserSchema, { limit: 2 });
    expect([first.documents.map((d) => d.originator.id), first.nextPageToken]).toEqual([["a", "b"], "b"]);
    const last = await client.listPage(TestUserSchema, { limit: 2, pageToken: first.nextPageToken });
    expect([last.documents.map((d) => d.originator.id), last.nextPageToken]).toEqual([["c"], ""]);
  });

  it("fails with internal instead of looping when the server repeats a page token", async () => {
    const { client } = setup({ list: () => ({ results: [], nextPageToken: "same" }) });
    const drain = async () => {
      for await (const _ of client.list(TestUserSchema)) {
        // Nothing to do.
      }
    };
    await expect(drain()).rejects.toMatchObject({ code: Code.Internal });
  });

  it("rejects a negative or fractional page size before any call", async () => {
    const { client, calls } = setup();
    await expect(client.list(TestUserSchema, { limit: -1 }).next()).rejects.toMatchObject({
      code: Code.InvalidArgument,
    });
    await expect(client.listPage(TestUserSchema, { limit: 1.5 })).rejects.toMatchObject({ code: Code.InvalidArgument });
    expect(calls()).toBe(0);
  });
});

describe("history", () => {
  it("yields every revision over all pages with its action, time and message at that version", async () => {
    const { store, client } = setup();
    const { message } = await client.create(TestUserSchema, ada({ originator: { id: "h" } }));
    const v2 = (await client.update(TestUserSchema, { ...message, name: "Ada 2" })).message;
    await client.update(TestUserSchema, { ...v2, name: "Ada 3" });
    await client.delete(TestUserSchema, "h");
    const revisions = [];
    for await (const r of client.history(TestUserSchema, { id: "h", version: 2n }, { limit: 3 })) {
      revisions.push([r.version, r.action, r.occurredOn, r.message.name, r.message.originator?.version]);
    }
    expect(revisions).toEqual([
      [1n, Action.CREATED, changeTime(1), "Ada", 1n],
      [2n, Action.UPDATED, changeTime(2), "Ada 2", 2n],
      [3n, Action.UPDATED, changeTime(3), "Ada 3", 3n],
      [4n, Action.DELETED, changeTime(4), "Ada 3", 4n],
    ]);
    const sent = store.requestsOf<HistoryRequest>("history").map((r) => [r.originatorId, r.pageToken, r.limit]);
    expect(sent).toEqual([
      ["h", "", 3],
      ["h", "3", 3],
    ]);
  });
});

describe("originator fields of other types", () => {
  it("fills and strips an application's own id/version message through reflection", async () => {
    const { store, client } = setup();
    const legacy = create(TestLegacyUserSchema, { name: "L", originator: { id: "l-1" } });
    const created = await client.create(TestLegacyUserSchema, legacy);
    expect(store.requestsOf<CreateRequest>("create")[0]?.payload).toBe('{"name":"L"}');
    expect([created.message.originator?.id, created.message.originator?.version]).toEqual(["l-1", 1n]);
    const updated = await client.update(TestLegacyUserSchema, { ...created.message, name: "L2" });
    expect([updated.message.originator?.$typeName, updated.message.originator?.version]).toEqual([
      "eskit.testing.v1.TestLegacyOriginator",
      2n,
    ]);
  });

  it("rejects an originator field that is not an id/version message with invalid_argument before any call", async () => {
    const { client, calls } = setup();
    const bad = create(TestBadOriginatorSchema, { originator: "x", name: "n" });
    await expect(client.create(TestBadOriginatorSchema, bad)).rejects.toMatchObject({ code: Code.InvalidArgument });
    await expect(client.get(TestBadOriginatorSchema, "x")).rejects.toMatchObject({ code: Code.InvalidArgument });
    expect(calls()).toBe(0);
  });
});

describe("call options", () => {
  it("reach the server: headers and timeout on unary calls and on every page", async () => {
    const { store, client } = setup();
    await client.create(TestUserSchema, ada({ originator: { id: "a" } }), {
      headers: { "x-tenant": "t1" },
      timeoutMs: 5000,
    });
    for await (const _ of client.list(TestUserSchema, { headers: { "x-tenant": "t2" } })) {
      // Drain.
    }
    expect(store.requests.map((r) => [r.method, r.headers.get("x-tenant")])).toEqual([
      ["create", "t1"],
      ["list", "t2"],
    ]);
    expect(store.requests[0]?.timeoutMs).toBeGreaterThan(4000);
  });

  it("an aborted signal cancels the call", async () => {
    const { client } = setup();
    const controller = new AbortController();
    controller.abort();
    await expect(client.get(TestUserSchema, "a", { signal: controller.signal })).rejects.toMatchObject({
      code: Code.Canceled,
    });
  });
});

describe("type registry", () => {
  it("registers, reads, updates and lists types named after the message", async () => {
    const { store, client } = setup();
    const schema = { type: "object", required: ["name"] };
    await client.registerType(TestUserSchema, { jsonSchema: schema });
    await client.registerType(TestUserSchema, { skipDuplicate: true });
    await expect(client.registerType(TestUserSchema)).rejects.toMatchObject({ code: Code.AlreadyExists });
    await client.registerType("acme.Other");
    await client.updateType(TestUserSchema, { schemaVersion: 2n, jsonSchema: '{"type":"object"}' });

    const [first] = store.requestsOf<RegisterTypeRequest>("registerType");
    expect([
      first?.spec?.entityType,
      first?.spec?.schemaSpec?.schemaVersion,
      first?.spec?.schemaSpec?.jsonSchema,
    ]).toEqual([userType, 1n, '{"type":"object","required":["name"]}']);
    expect(store.requestsOf<RegisterTypeRequest>("registerType").map((r) => r.skipDuplicate)).toEqual([
      false,
      true,
      false,
      false,
    ]);
    expect(store.requestsOf<UpdateTypeRequest>("updateType")[0]?.spec?.schemaSpec?.schemaVersion).toBe(2n);

    const spec = await client.getType(TestUserSchema);
    expect([spec.entityType, spec.schemaSpec?.schemaVersion, spec.schemaSpec?.jsonSchema]).toEqual([
      userType,
      2n,
      '{"type":"object"}',
    ]);
    const names = [];
    for await (const t of client.listTypes({ limit: 1 })) names.push(t.entityType);
    expect(names).toEqual(["acme.Other", userType]);
    expect(store.requestsOf<ListTypesRequest>("listTypes").map((r) => r.pageToken)).toEqual(["", "acme.Other"]);
    await expect(client.getType("acme.Unknown")).rejects.toMatchObject({ code: Code.NotFound });
  });
});
