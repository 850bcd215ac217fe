/**
 * The original ESKIT v1 CrudStoreService (package contracts.crudstore), served on the Crud Store's port beside ours and
 * driven here as an original client drives it: a gRPC client generated from the v1 contracts.
 */
import { Code, createClient, type Client } from "@connectrpc/connect";
import { createNodeTransport, type NodeTransport } from "@eskit/client/node.js";
import { CrudStoreService } from "@eskit/gen/contracts/crudstore/service_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCrudStoreHarness, type CrudClient, type CrudStoreHarness } from "./harness.js";
import { freshId, freshType, parse, rejection, uuidPattern } from "./support/documents.js";

type V1Client = Client<typeof CrudStoreService>;

let harness: CrudStoreHarness;
let v1: V1Client;
let ours: CrudClient;
const transports: NodeTransport[] = [];

function v1Client(baseUrl: string, token?: string): V1Client {
  const transport = createNodeTransport({ baseUrl, protocol: "grpc", token });
  transports.push(transport);
  return createClient(CrudStoreService, transport);
}

beforeAll(async () => {
  harness = await startCrudStoreHarness();
  v1 = v1Client(harness.url);
  ours = harness.clients("grpc").crud;
});
afterAll(async () => {
  for (const transport of transports) transport.close();
  await harness?.stop();
});

const json = (value: unknown): string => JSON.stringify(value);

describe("v1 types", () => {
  const schema = { type: "object", required: ["name"], properties: { name: { type: "string" } } };

  it("registers a type and returns its spec as given", async () => {
    const entityType = freshType("v1type");
    await v1.registerType({ spec: { entityType, schemaSpec: { schemaVersion: 1n, jsonSchema: json(schema) } } });
    const { spec } = await v1.getType({ entityType });
    expect(spec?.entityType).toBe(entityType);
    expect(spec?.schemaSpec?.schemaVersion).toBe(1n);
    expect(spec?.schemaSpec?.jsonSchema).toBe(json(schema));
  });

  it("refuses a duplicate registration with already_exists, and skips it with skip_duplicate", async () => {
    const entityType = freshType("v1dup");
    const spec = { entityType, schemaSpec: { schemaVersion: 1n, jsonSchema: json(schema) } };
    await v1.registerType({ spec });
    expect((await rejection(v1.registerType({ spec }))).code).toBe(Code.AlreadyExists);
    await v1.registerType({
      spec: { ...spec, schemaSpec: { schemaVersion: 1n, jsonSchema: "" } },
      skipDuplicate: true,
    });
    expect((await v1.getType({ entityType })).spec?.schemaSpec?.jsonSchema).toBe(json(schema));
  });

  it("answers GetType of an unknown type with not_found", async () => {
    expect((await rejection(v1.getType({ entityType: freshType("v1none") }))).code).toBe(Code.NotFound);
  });

  it("lists every type with its latest spec exactly as stored, UpdateType included", async () => {
    const a = freshType("v1lista");
    const b = freshType("v1listb");
    const updated = { ...schema, required: ["name", "age"] };
    await v1.registerType({ spec: { entityType: a, schemaSpec: { schemaVersion: 1n, jsonSchema: json(schema) } } });
    await v1.registerType({ spec: { entityType: b, schemaSpec: { schemaVersion: 3n, jsonSchema: "" } } });
    await v1.updateType({ spec: { entityType: a, schemaSpec: { schemaVersion: 2n, jsonSchema: json(updated) } } });
    const { results } = await v1.listTypes({ limit: 0 });
    const byType = new Map(results.map((s) => [s.entityType, s.schemaSpec]));
    expect(byType.get(a)?.schemaVersion).toBe(2n);
    expect(byType.get(a)?.jsonSchema).toBe(json(updated));
    expect(byType.get(b)?.schemaVersion).toBe(3n);
    expect(byType.get(b)?.jsonSchema).toBe("");
    expect((await v1.getType({ entityType: a })).spec?.schemaSpec?.jsonSchema).toBe(json(updated));
  });

  it("lists at most limit types", async () => {
    for (let i = 0; i < 3; i++) {
      await v1.registerType({ spec: { entityType: freshType("v1limit"), schemaSpec: { schemaVersion: 1n } } });
    }
    const { results } = await v1.listTypes({ limit: 2 });
    expect(results).toHaveLength(2);
    expect((await v1.listTypes({ limit: 0 })).results.length).toBeGreaterThanOrEqual(3);
  });

  it("refuses an UpdateType that does not raise schema_version with failed_precondition", async () => {
    const entityType = freshType("v1prec");
    await v1.registerType({ spec: { entityType, schemaSpec: { schemaVersion: 2n } } });
    const stale = v1.updateType({ spec: { entityType, schemaSpec: { schemaVersion: 2n } } });
    expect((await rejection(stale)).code).toBe(Code.FailedPrecondition);
  });
});

describe("v1 documents", () => {
  it("creates, reads, updates, reads old and latest versions, refuses a stale version, deletes", async () => {
    const entityType = freshType("v1life");
    const id = freshId();
    const created = await v1.create({ entityType, originator: { id }, payload: json({ name: "Ada", n: 1 }) });
    expect(created.originator).toMatchObject({ id, version: "1" });

    const latest1 = await v1.get({ entityType, originator: { id } });
    expect(latest1.originator).toMatchObject({ id, version: "1" });
    expect(parse(latest1.payload)).toEqual({ name: "Ada", n: 1 });

    const updated = await v1.update({
      entityType,
      originator: { id, version: "1" },
      payload: json({ name: "Ada", n: 2 }),
    });
    expect(updated.originator).toMatchObject({ id, version: "2" });

    const old = await v1.get({ entityType, originator: { id, version: "1" } });
    expect(old.originator).toMatchObject({ id, version: "1" });
    expect(parse(old.payload)).toEqual({ name: "Ada", n: 1 });
    const latest = await v1.get({ entityType, originator: { id } });
    expect(latest.originator).toMatchObject({ id, version: "2" });
    expect(parse(latest.payload)).toEqual({ name: "Ada", n: 2 });

    const stale = v1.update({ entityType, originator: { id, version: "1" }, payload: json({ name: "stale" }) });
    expect((await rejection(stale)).code).toBe(Code.AlreadyExists);
    expect(parse((await v1.get({ entityType, originator: { id } })).payload)).toEqual({ name: "Ada", n: 2 });

    const deleted = await v1.delete({ entityType, originator: { id, version: "2" } });
    expect(deleted.originator).toMatchObject({ id, version: "3" });
    expect((await rejection(v1.get({ entityType, originator: { id } }))).code).toBe(Code.NotFound);
    const last = await v1.get({ entityType, originator: { id }, deleted: true });
    expect(last.originator).toMatchObject({ id, version: "3" });
    expect(parse(last.payload)).toEqual({ name: "Ada", n: 2 });
  });

  it("creates at version 1 with a generated UUID when no originator is given", async () => {
    const entityType = freshType("v1uuid");
    const { originator } = await v1.create({ entityType, payload: json({ a: 1 }) });
    expect(originator?.id).toMatch(uuidPattern);
    expect(originator?.version).toBe("1");
    expect(parse((await v1.get({ entityType, originator: { id: originator!.id } })).payload)).toEqual({ a: 1 });
  });

  it("accepts version 1 on Create and refuses a later one with invalid_argument", async () => {
    const entityType = freshType("v1cv");
    const ok = await v1.create({ entityType, originator: { id: freshId(), version: "1" }, payload: "{}" });
    expect(ok.originator?.version).toBe("1");
    const later = v1.create({ entityType, originator: { id: freshId(), version: "2" }, payload: "{}" });
    expect((await rejection(later)).code).toBe(Code.InvalidArgument);
  });

  it("refuses a Create of an existing id with already_exists", async () => {
    const entityType = freshType("v1exists");
    const id = freshId();
    await v1.create({ entityType, originator: { id }, payload: "{}" });
    expect((await rejection(v1.create({ entityType, originator: { id }, payload: "{}" }))).code).toBe(
      Code.AlreadyExists,
    );
  });

  it.each(["abc", "-1", "1.5", " 2", "0x1", "99999999999999999999"])(
    "refuses the version %j with invalid_argument",
    async (version) => {
      const entityType = freshType("v1badv");
      const id = freshId();
      await v1.create({ entityType, originator: { id }, payload: "{}" });
      expect((await rejection(v1.get({ entityType, originator: { id, version } }))).code).toBe(Code.InvalidArgument);
      const update = v1.update({ entityType, originator: { id, version }, payload: "{}" });
      expect((await rejection(update)).code).toBe(Code.InvalidArgument);
    },
  );

  it("updates the latest version when Update has no version", async () => {
    const entityType = freshType("v1latest");
    const id = freshId();
    await v1.create({ entityType, originator: { id }, payload: json({ n: 1 }) });
    await v1.update({ entityType, originator: { id, version: "1" }, payload: json({ n: 2 }) });
    const unguarded = await v1.update({ entityType, originator: { id }, payload: json({ n: 3 }) });
    expect(unguarded.originator).toMatchObject({ id, version: "3" });
    expect(parse((await v1.get({ entityType, originator: { id } })).payload)).toEqual({ n: 3 });
    expect(parse((await v1.get({ entityType, originator: { id, version: "2" } })).payload)).toEqual({ n: 2 });
  });

  it("answers an Update without a version of an unknown or deleted document with not_found", async () => {
    const entityType = freshType("v1upgone");
    const id = freshId();
    const unknown = v1.update({ entityType, originator: { id }, payload: "{}" });
    expect((await rejection(unknown)).code).toBe(Code.NotFound);
    await v1.create({ entityType, originator: { id }, payload: "{}" });
    await v1.delete({ entityType, originator: { id } });
    const gone = v1.update({ entityType, originator: { id }, payload: "{}" });
    expect((await rejection(gone)).code).toBe(Code.NotFound);
  });

  it("deletes without a version, and refuses a stale one with already_exists", async () => {
    const entityType = freshType("v1del");
    const id = freshId();
    await v1.create({ entityType, originator: { id }, payload: json({ k: "v" }) });
    await v1.update({ entityType, originator: { id, version: "1" }, payload: json({ k: "w" }) });
    expect((await rejection(v1.delete({ entityType, originator: { id, version: "1" } }))).code).toBe(
      Code.AlreadyExists,
    );
    const deleted = await v1.delete({ entityType, originator: { id } });
    expect(deleted.originator).toMatchObject({ id, version: "3" });
    expect((await rejection(v1.delete({ entityType, originator: { id } }))).code).toBe(Code.NotFound);
  });

  it("answers Get of an unknown document or version with not_found", async () => {
    const entityType = freshType("v1unknown");
    const id = freshId();
    expect((await rejection(v1.get({ entityType, originator: { id } }))).code).toBe(Code.NotFound);
    await v1.create({ entityType, originator: { id }, payload: "{}" });
    expect((await rejection(v1.get({ entityType, originator: { id, version: "2" } }))).code).toBe(Code.NotFound);
  });

  it("returns the payload as stored, so it goes back unchanged as an Update", async () => {
    const entityType = freshType("v1exact");
    const id = freshId();
    const doc = { name: "Zoë", nested: { list: [1, 2.5, "x", null, true], empty: {} }, big: 12345678901234, neg: -0.5 };
    await v1.create({ entityType, originator: { id }, payload: json(doc) });
    const got = await v1.get({ entityType, originator: { id } });
    expect(parse(got.payload)).toEqual(doc);
    expect(Object.keys(parse(got.payload) as object).sort()).toEqual(Object.keys(doc).sort());
    const again = await v1.update({ entityType, originator: got.originator, payload: got.payload });
    expect(again.originator).toMatchObject({ id, version: "1" });
  });

  it("validates payloads against the registered schema with invalid_argument", async () => {
    const entityType = freshType("v1schema");
    const jsonSchema = json({ type: "object", required: ["name"] });
    await v1.registerType({ spec: { entityType, schemaSpec: { schemaVersion: 1n, jsonSchema } } });
    expect((await rejection(v1.create({ entityType, payload: json({ age: 3 }) }))).code).toBe(Code.InvalidArgument);
  });

  it("keeps the same documents as our contract: one core behind both", async () => {
    const entityType = freshType("v1shared");
    const id = freshId();
    await v1.create({ entityType, originator: { id }, payload: json({ via: "v1" }) });
    const mine = await ours.get({ entityType, originator: { id } });
    expect(mine.originator?.version).toBe(1n);
    expect(parse(mine.payload)).toEqual({ via: "v1" });
    await ours.update({ entityType, originator: { id, version: 1n }, payload: json({ via: "ours" }) });
    const theirs = await v1.get({ entityType, originator: { id } });
    expect(theirs.originator).toMatchObject({ id, version: "2" });
    expect(parse(theirs.payload)).toEqual({ via: "ours" });
  });
});

describe("v1 List", () => {
  it("pages through live documents in id order with next_page_id", async () => {
    const entityType = freshType("v1page");
    const ids = ["a", "b", "c", "d", "e"].map((p) => `${p}-${freshId()}`);
    for (const [i, id] of ids.entries()) {
      await v1.create({ entityType, originator: { id }, payload: json({ i }) });
    }
    await v1.delete({ entityType, originator: { id: ids[2]! } });
    const live = ids.filter((_, i) => i !== 2);

    const pages: Array<{ ids: string[]; payloads: unknown[] }> = [];
    let paginationId = "";
    for (let guard = 0; guard < 10; guard++) {
      const page = await v1.list({ entityType, paginationId, limit: 2 });
      expect(page.results.every((r) => r.entityType === entityType && r.originator?.version === "1")).toBe(true);
      pages.push({
        ids: page.results.map((r) => r.originator!.id),
        payloads: page.results.map((r) => parse(r.payload)),
      });
      if (page.nextPageId === "") break;
      paginationId = page.nextPageId;
    }
    // Like ours, a full page may be followed by an empty last one: the store cannot know there is no more.
    expect(pages.slice(0, 2).map((p) => p.ids)).toEqual([live.slice(0, 2), live.slice(2, 4)]);
    expect(pages.slice(2).flatMap((p) => p.ids)).toEqual([]);
    expect(pages.flatMap((p) => p.payloads)).toEqual([{ i: 0 }, { i: 1 }, { i: 3 }, { i: 4 }]);
  });

  it("leaves payloads empty with skip_payload", async () => {
    const entityType = freshType("v1skip");
    const id = freshId();
    await v1.create({ entityType, originator: { id }, payload: json({ x: 1 }) });
    const { results, nextPageId } = await v1.list({ entityType, skipPayload: true });
    expect(results.map((r) => [r.originator?.id, r.originator?.version, r.payload])).toEqual([[id, "1", ""]]);
    expect(nextPageId).toBe("");
  });

  it("refuses a pagination_id it did not issue with invalid_argument", async () => {
    const list = v1.list({ entityType: freshType("v1tok"), paginationId: "not-a-token" });
    expect((await rejection(list)).code).toBe(Code.InvalidArgument);
  });
});

describe("v1 Healtz", () => {
  it("answers OK while the Event Store is reachable", async () => {
    expect((await v1.healtz({})).message).toBe("OK");
  });

  it("answers unavailable when the Event Store is not reachable", async () => {
    const orphan = await harness.addCrudStore({ eventStoreUrl: "http://127.0.0.1:1" });
    expect((await rejection(v1Client(orphan.url).healtz({}))).code).toBe(Code.Unavailable);
  });
});

describe("v1 with access control", () => {
  it("lets a read token read and list, refuses its writes, and leaves Healtz open", async () => {
    const full = `full-${freshId()}`;
    const read = `read-${freshId()}`;
    const guarded = await harness.addCrudStore({ authTokens: [full], readTokens: [read] });
    const entityType = freshType("v1auth");
    const id = freshId();
    const writer = v1Client(guarded.url, full);
    const reader = v1Client(guarded.url, read);
    await writer.create({ entityType, originator: { id }, payload: json({ a: 1 }) });
    expect(parse((await reader.get({ entityType, originator: { id } })).payload)).toEqual({ a: 1 });
    expect((await reader.list({ entityType })).results.map((r) => r.originator?.id)).toEqual([id]);
    const write = reader.update({ entityType, originator: { id }, payload: json({ a: 2 }) });
    expect((await rejection(write)).code).toBe(Code.PermissionDenied);
    expect((await rejection(v1Client(guarded.url).get({ entityType, originator: { id } }))).code).toBe(
      Code.Unauthenticated,
    );
    expect((await v1Client(guarded.url).healtz({})).message).toBe("OK");
  });
});
