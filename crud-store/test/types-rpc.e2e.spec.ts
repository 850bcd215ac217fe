import { Code } from "@connectrpc/connect";
import { type EventStoreClient, schemaViolationsOf } from "@eskit/client";
import type { CrudEntitySpec } from "@eskit/gen/eskit/crudstore/v1/crud_store_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { protocols, startCrudStoreHarness, type CrudClient, type CrudStoreHarness } from "./harness.js";
import { freshId, freshType, parse, rejection, rejectionError } from "./support/documents.js";

// One server pair for the file; types are global to it, so each test registers types of its own.
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

const personSchema = {
  type: "object",
  required: ["name", "age"],
  properties: {
    name: { type: "string", minLength: 1 },
    age: { type: "integer", minimum: 0 },
    address: { type: "object", properties: { zip: { type: "string", pattern: "^[0-9]{5}$" } } },
    tags: { type: "array", items: { type: "string" } },
  },
  additionalProperties: false,
};

/** Registers `entityType` with a schema (`undefined` = no schema) at schema_version 1. */
async function register(entityType: string, schema: unknown, schemaVersion = 1n): Promise<void> {
  await crud.registerType({
    spec: { entityType, schemaSpec: { schemaVersion, jsonSchema: schema === undefined ? "" : json(schema) } },
  });
}

/** Every page of ListTypes, following next_page_token until it is empty. */
async function listTypesAll(client: CrudClient, limit: number): Promise<CrudEntitySpec[][]> {
  const pages: CrudEntitySpec[][] = [];
  let pageToken = "";
  for (let i = 0; i < 10_000; i++) {
    const page = await client.listTypes({ limit, pageToken });
    pages.push(page.results);
    if (page.nextPageToken === "") return pages;
    pageToken = page.nextPageToken;
  }
  throw new Error("ListTypes never ended");
}

/** A JSON-pointer (`/address/zip`) or dotted (`address.zip`) mention of `segments` in `message`. */
function mentionsPath(message: string, segments: readonly string[]): boolean {
  return (
    message.includes(`/${segments.join("/")}`) ||
    message.includes(segments.join(".")) ||
    message.includes(segments.map((s) => `[${s}]`).join(""))
  );
}

describe.each(protocols)("the type registry over %s", (protocol) => {
  it("registers a type, reads it back, lists it, and validates documents against its schema", async () => {
    const client = harness.clients(protocol).crud;
    const entityType = freshType(protocol.replace("-", ""));
    const jsonSchema = json(personSchema);
    await client.registerType({ spec: { entityType, schemaSpec: { schemaVersion: 1n, jsonSchema } } });

    const read = await client.getType({ entityType });
    expect(read.spec?.entityType).toBe(entityType);
    expect(read.spec?.schemaSpec?.schemaVersion).toBe(1n);
    expect(parse(read.spec!.schemaSpec!.jsonSchema)).toStrictEqual(personSchema);

    const listed = (await listTypesAll(client, 1000)).flat().find((spec) => spec.entityType === entityType);
    expect(listed?.schemaSpec?.schemaVersion).toBe(1n);
    expect(parse(listed!.schemaSpec!.jsonSchema)).toStrictEqual(personSchema);

    const ok = await client.create({ entityType, payload: json({ name: "Ada", age: 36 }) });
    expect(ok.originator?.version).toBe(1n);
    const bad = await rejection(client.create({ entityType, payload: json({ name: "Ada", age: -1 }) }));
    expect(bad.code, bad.message).toBe(Code.InvalidArgument);
  });
});

describe("RegisterType", () => {
  it("rejects a second registration with already_exists and keeps the first spec", async () => {
    const entityType = freshType();
    await register(entityType, personSchema);
    const { code, message } = await rejection(
      crud.registerType({
        spec: { entityType, schemaSpec: { schemaVersion: 2n, jsonSchema: json({ type: "object" }) } },
      }),
    );
    expect(code, message).toBe(Code.AlreadyExists);
    const read = await crud.getType({ entityType });
    expect(read.spec?.schemaSpec?.schemaVersion).toBe(1n);
    expect(parse(read.spec!.schemaSpec!.jsonSchema)).toStrictEqual(personSchema);
  });

  it("succeeds without change for a duplicate when skip_duplicate is set", async () => {
    const entityType = freshType();
    await register(entityType, personSchema);
    const before = await eventStore.readEvents(`eskit.crudstore.type:${entityType}`);
    await crud.registerType({
      spec: { entityType, schemaSpec: { schemaVersion: 5n, jsonSchema: json({ type: "object" }) } },
      skipDuplicate: true,
    });
    const read = await crud.getType({ entityType });
    expect(read.spec?.schemaSpec?.schemaVersion).toBe(1n);
    expect(parse(read.spec!.schemaSpec!.jsonSchema)).toStrictEqual(personSchema);
    expect(await eventStore.readEvents(`eskit.crudstore.type:${entityType}`)).toHaveLength(before.length);
    // And a first registration with skip_duplicate registers as usual.
    const fresh = freshType();
    await crud.registerType({
      spec: { entityType: fresh, schemaSpec: { schemaVersion: 1n, jsonSchema: "" } },
      skipDuplicate: true,
    });
    expect((await crud.getType({ entityType: fresh })).spec?.entityType).toBe(fresh);
  });

  it("rejects a schema that does not compile with invalid_argument and registers nothing", async () => {
    const schemas = [
      "{not json",
      json({ type: "nope" }),
      json({ type: "object", properties: { a: { type: 12 } } }),
      json({ type: "object", required: "name" }),
      json({
        $schema: "https://json-schema.org/draft/2020-12/schema",
        type: "object",
        properties: { a: { minimum: "zero" } },
      }),
      json({ $schema: "http://json-schema.org/draft-04/schema#", type: "object" }),
      json({ $ref: "#/definitions/missing" }),
    ];
    for (const jsonSchema of schemas) {
      const entityType = freshType();
      const { code, message } = await rejection(
        crud.registerType({ spec: { entityType, schemaSpec: { schemaVersion: 1n, jsonSchema } } }),
      );
      expect(code, `${jsonSchema}: ${message}`).toBe(Code.InvalidArgument);
      expect((await rejection(crud.getType({ entityType }))).code, jsonSchema).toBe(Code.NotFound);
    }
  });

  it("rejects a missing spec or entity type with invalid_argument", async () => {
    for (const request of [
      {},
      { spec: { entityType: "", schemaSpec: { schemaVersion: 1n, jsonSchema: "" } } },
      { spec: { entityType: "with space" } },
    ]) {
      const { code, message } = await rejection(crud.registerType(request));
      expect(
        code,
        `${JSON.stringify(request, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v))}: ${message}`,
      ).toBe(Code.InvalidArgument);
    }
  });

  it("keeps types as events of eskit.crudstore.EntityType under eskit.crudstore.type:<entity_type>", async () => {
    const entityType = freshType();
    await register(entityType, personSchema);
    await crud.updateType({
      spec: { entityType, schemaSpec: { schemaVersion: 2n, jsonSchema: json({ type: "object" }) } },
    });
    const events = await eventStore.readEvents(`eskit.crudstore.type:${entityType}`);
    expect(events.map((e) => e.originator?.version)).toEqual([1n, 2n]);
    for (const event of events) {
      expect(event.eventType.startsWith("eskit.crudstore.EntityType."), event.eventType).toBe(true);
      expect(event.metadata["eskit.source"]).toBe("crud-store");
    }
  });
});

describe("GetType", () => {
  it("answers not_found for a type never registered, even one with documents", async () => {
    const entityType = freshType();
    await crud.create({ entityType, payload: "{}" });
    const { code, message } = await rejection(crud.getType({ entityType }));
    expect(code, message).toBe(Code.NotFound);
    const listed = (await listTypesAll(crud, 1000)).flat().map((spec) => spec.entityType);
    expect(listed).not.toContain(entityType);
  });
});

describe("the registry alongside documents", () => {
  it("shares the event store's id space: a registered type's originator id cannot be taken by a document", async () => {
    const entityType = freshType();
    await register(entityType, undefined);
    const { code, message } = await rejection(
      crud.create({ entityType: freshType(), originator: { id: `eskit.crudstore.type:${entityType}` }, payload: "{}" }),
    );
    // Taken (already_exists), or refused up front because the prefix is reserved (invalid_argument): never written.
    expect([Code.AlreadyExists, Code.InvalidArgument], message).toContain(code);
    expect(await eventStore.readEvents(`eskit.crudstore.type:${entityType}`)).toHaveLength(1);
    expect((await crud.getType({ entityType })).spec?.entityType).toBe(entityType);
  });

  /**
   * Calls `write` until it is refused with invalid_argument, for no longer than the cache's bound on a stale schema
   * (and a second's slack for a loaded machine): a write accepted after that was validated against a stale schema.
   * Once refused, it stays refused.
   */
  async function refusedWithinCacheBound(write: () => Promise<unknown>): Promise<void> {
    const until = performance.now() + harness.config.typeCacheMaxAgeMs + 1000;
    for (;;) {
      const outcome = await write().then(
        () => undefined,
        (e: unknown) => e,
      );
      if (outcome !== undefined) {
        expect((await rejection(Promise.reject(outcome))).code).toBe(Code.InvalidArgument);
        break;
      }
      expect(performance.now(), "a replica still validated against the old schema past the bound").toBeLessThan(until);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect((await rejection(write())).code).toBe(Code.InvalidArgument);
  }

  it("validates against the latest schema even when another Crud Store replica changed it", async () => {
    const entityType = freshType();
    const replica = (await harness.addCrudStore()).clients("connect").crud;
    await register(entityType, { type: "object", required: ["a"] });
    // Both replicas have used (and may have cached) the first schema.
    expect((await crud.create({ entityType, payload: json({ a: 1 }) })).originator?.version).toBe(1n);
    expect((await replica.create({ entityType, payload: json({ a: 1 }) })).originator?.version).toBe(1n);
    expect((await rejection(replica.create({ entityType, payload: json({ b: 1 }) }))).code).toBe(Code.InvalidArgument);

    await crud.updateType({
      spec: { entityType, schemaSpec: { schemaVersion: 2n, jsonSchema: json({ type: "object", required: ["b"] }) } },
    });
    // Through the log within milliseconds; within the cache's bound (ESKIT_TYPE_CACHE_MAX_AGE_MS) at worst.
    await refusedWithinCacheBound(() => replica.create({ entityType, payload: json({ a: 1 }) }));
    expect((await replica.create({ entityType, payload: json({ b: 1 }) })).originator?.version).toBe(1n);
    expect((await replica.getType({ entityType })).spec?.schemaSpec?.schemaVersion).toBe(2n);

    // A type first registered through the other replica is enforced at once, too.
    const lateType = freshType();
    expect((await crud.create({ entityType: lateType, payload: json({ free: true }) })).originator?.version).toBe(1n);
    await replica.registerType({
      spec: {
        entityType: lateType,
        schemaSpec: { schemaVersion: 1n, jsonSchema: json({ type: "object", required: ["c"] }) },
      },
    });
    await refusedWithinCacheBound(() => crud.create({ entityType: lateType, payload: json({ free: true }) }));
    expect(
      (await rejection(crud.registerType({ spec: { entityType: lateType, schemaSpec: { schemaVersion: 1n } } }))).code,
    ).toBe(Code.AlreadyExists);
  });
});

describe("UpdateType", () => {
  it("replaces the schema when schema_version increases, and validates from then on against the new one", async () => {
    const entityType = freshType();
    await register(entityType, { type: "object", required: ["a"] });
    const oldDoc = await crud.create({ entityType, payload: json({ a: 1 }) });
    await crud.updateType({
      spec: { entityType, schemaSpec: { schemaVersion: 3n, jsonSchema: json({ type: "object", required: ["b"] }) } },
    });
    const read = await crud.getType({ entityType });
    expect(read.spec?.schemaSpec?.schemaVersion).toBe(3n);
    expect(parse(read.spec!.schemaSpec!.jsonSchema)).toStrictEqual({ type: "object", required: ["b"] });

    expect((await rejection(crud.create({ entityType, payload: json({ a: 1 }) }))).code).toBe(Code.InvalidArgument);
    expect((await crud.create({ entityType, payload: json({ b: 1 }) })).originator?.version).toBe(1n);
    // Documents already stored stay readable; changing one must satisfy the new schema.
    const id = oldDoc.originator!.id;
    expect(parse((await crud.get({ entityType, originator: { id } })).payload)).toStrictEqual({ a: 1 });
    const stale = await rejection(
      crud.update({ entityType, originator: { id, version: 1n }, payload: json({ a: 2 }) }),
    );
    expect(stale.code, stale.message).toBe(Code.InvalidArgument);
    const updated = await crud.update({ entityType, originator: { id, version: 1n }, payload: json({ a: 2, b: 2 }) });
    expect(updated.originator?.version).toBe(2n);
  });

  it("rejects a schema_version that does not increase with failed_precondition", async () => {
    const entityType = freshType();
    await register(entityType, { type: "object" }, 2n);
    for (const schemaVersion of [2n, 1n, 0n]) {
      const { code, message } = await rejection(
        crud.updateType({
          spec: { entityType, schemaSpec: { schemaVersion, jsonSchema: json({ type: "object", required: ["x"] }) } },
        }),
      );
      expect(code, `schema_version ${schemaVersion}: ${message}`).toBe(Code.FailedPrecondition);
    }
    const read = await crud.getType({ entityType });
    expect(read.spec?.schemaSpec?.schemaVersion).toBe(2n);
    expect(parse(read.spec!.schemaSpec!.jsonSchema)).toStrictEqual({ type: "object" });
  });

  it("answers not_found for an unknown type and invalid_argument for a schema that does not compile", async () => {
    const unknown = await rejection(
      crud.updateType({
        spec: { entityType: freshType(), schemaSpec: { schemaVersion: 2n, jsonSchema: json({ type: "object" }) } },
      }),
    );
    expect(unknown.code, unknown.message).toBe(Code.NotFound);
    const entityType = freshType();
    await register(entityType, { type: "object" });
    const broken = await rejection(
      crud.updateType({ spec: { entityType, schemaSpec: { schemaVersion: 2n, jsonSchema: json({ type: 7 }) } } }),
    );
    expect(broken.code, broken.message).toBe(Code.InvalidArgument);
    expect((await crud.getType({ entityType })).spec?.schemaSpec?.schemaVersion).toBe(1n);
  });
});

describe("ListTypes", () => {
  it("pages through the registered types in name order, each once", async () => {
    const prefix = `test.list${freshId("types").replace(/-/g, "")}`;
    const names = ["e", "b", "d", "a", "c"].map((letter) => `${prefix}.${letter}`);
    for (const name of names) await register(name, { type: "object", title: name });
    const pages = await listTypesAll(crud, 2);
    for (const page of pages.slice(0, -1)) expect(page).toHaveLength(2);
    const all = pages.flat().map((spec) => spec.entityType);
    expect(all).toEqual([...all].sort());
    expect(new Set(all).size).toBe(all.length);
    expect(all.filter((name) => name.startsWith(`${prefix}.`))).toEqual([...names].sort());
    for (const spec of pages.flat().filter((s) => s.entityType.startsWith(`${prefix}.`))) {
      expect(parse(spec.schemaSpec!.jsonSchema)).toStrictEqual({ type: "object", title: spec.entityType });
      expect(spec.schemaSpec?.schemaVersion).toBe(1n);
    }
  });

  it("returns 100 types per page when the limit is 0", async () => {
    const prefix = `test.many${freshId("types").replace(/-/g, "")}`;
    const names = Array.from({ length: 101 }, (_, i) => `${prefix}.t${String(i).padStart(3, "0")}`);
    for (let i = 0; i < names.length; i += 20) {
      await Promise.all(names.slice(i, i + 20).map((name) => register(name, undefined)));
    }
    const first = await crud.listTypes({});
    expect(first.results).toHaveLength(100);
    expect(first.nextPageToken).not.toBe("");
  });

  it("rejects a limit above 1000 or a malformed page token with invalid_argument", async () => {
    for (const request of [{ limit: 1001 }, { pageToken: "garbage!!" }]) {
      const { code, message } = await rejection(crud.listTypes(request));
      expect(code, `${JSON.stringify(request)}: ${message}`).toBe(Code.InvalidArgument);
    }
  });
});

describe("schema validation of documents", () => {
  it("lists every violation with its path in one invalid_argument, on Create and on Update, writing nothing", async () => {
    const entityType = freshType();
    await register(entityType, personSchema);
    const bad = { age: -1, address: { zip: "abc" }, tags: ["ok", 5, "fine", true], extra: 1 };
    const check = (message: string): void => {
      expect(mentionsPath(message, ["age"]), message).toBe(true);
      expect(mentionsPath(message, ["address", "zip"]), message).toBe(true);
      expect(mentionsPath(message, ["tags", "1"]), message).toBe(true);
      expect(mentionsPath(message, ["tags", "3"]), message).toBe(true);
      expect(message).toContain("name");
      expect(message).toContain("extra");
    };
    // The same, typed: each violation at its JSON Pointer, for a client to show at its field.
    const checkDetail = (error: unknown): void => {
      const detail = schemaViolationsOf(error);
      expect(detail).toMatchObject({ entityType, schemaVersion: 1n });
      const paths = detail!.violations.map((v) => v.path);
      expect(paths).toEqual(expect.arrayContaining(["/age", "/address/zip", "/tags/1", "/tags/3", ""]));
      expect(detail!.violations.find((v) => v.path === "/age")?.message).toBe("must be >= 0");
      expect(detail!.violations.every((v) => v.message !== "")).toBe(true);
    };
    const id = freshId();
    const created = await rejectionError(crud.create({ entityType, originator: { id }, payload: json(bad) }));
    expect(created.code, created.message).toBe(Code.InvalidArgument);
    check(created.rawMessage);
    checkDetail(created);
    expect(await eventStore.readEvents(id)).toEqual([]);

    await crud.create({ entityType, originator: { id }, payload: json({ name: "Ada", age: 36 }) });
    const updated = await rejectionError(
      crud.update({ entityType, originator: { id, version: 1n }, payload: json(bad) }),
    );
    expect(updated.code, updated.message).toBe(Code.InvalidArgument);
    check(updated.rawMessage);
    checkDetail(updated);
    expect(await eventStore.readEvents(id)).toHaveLength(1);
    const ok = await crud.update({
      entityType,
      originator: { id, version: 1n },
      payload: json({ name: "Ada", age: 37, tags: ["x"] }),
    });
    expect(ok.originator?.version).toBe(2n);
  });

  it("checks the payload is an object before the schema, even for a schema that accepts anything", async () => {
    const entityType = freshType();
    await register(entityType, {});
    for (const payload of ["[]", "1", "null"]) {
      expect((await rejection(crud.create({ entityType, payload }))).code, payload).toBe(Code.InvalidArgument);
    }
  });

  it("picks the draft by $schema: draft-07 by default, 2019-09 and 2020-12 when named", async () => {
    const cases = [
      {
        schema: { type: "object", dependencies: { card: ["billing"] } },
        good: { card: 1, billing: 2 },
        bad: { card: 1 },
      },
      {
        schema: {
          $schema: "http://json-schema.org/draft-07/schema#",
          type: "object",
          properties: { n: { exclusiveMinimum: 5 } },
        },
        good: { n: 6 },
        bad: { n: 5 },
      },
      {
        schema: {
          $schema: "https://json-schema.org/draft/2019-09/schema",
          type: "object",
          dependentRequired: { card: ["billing"] },
        },
        good: { card: 1, billing: 2 },
        bad: { card: 1 },
      },
      {
        schema: {
          $schema: "https://json-schema.org/draft/2020-12/schema",
          type: "object",
          properties: { pair: { type: "array", prefixItems: [{ type: "string" }, { type: "integer" }], items: false } },
        },
        good: { pair: ["a", 1] },
        bad: { pair: ["a", 1, "extra"] },
      },
      {
        schema: {
          $schema: "https://json-schema.org/draft/2020-12/schema",
          $defs: { positive: { type: "number", exclusiveMinimum: 0 } },
          type: "object",
          properties: { p: { $ref: "#/$defs/positive" } },
        },
        good: { p: 1 },
        bad: { p: 0 },
      },
    ];
    for (const { schema, good, bad } of cases) {
      const entityType = freshType();
      await register(entityType, schema);
      const created = await crud.create({ entityType, payload: json(good) });
      expect(created.originator?.version, json(schema)).toBe(1n);
      const rejected = await rejection(crud.create({ entityType, payload: json(bad) }));
      expect(rejected.code, `${json(schema)} with ${json(bad)}: ${rejected.message}`).toBe(Code.InvalidArgument);
    }
  });

  it("validates nothing for a type registered with an empty schema, or not registered at all", async () => {
    const registered = freshType();
    await register(registered, undefined);
    expect((await crud.getType({ entityType: registered })).spec?.schemaSpec?.jsonSchema).toBe("");
    const unregistered = freshType();
    for (const entityType of [registered, unregistered]) {
      const id = (await crud.create({ entityType, payload: json({ anything: [1, "two", null], goes: { x: true } }) }))
        .originator!.id;
      expect(
        (await crud.update({ entityType, originator: { id, version: 1n }, payload: json({}) })).originator?.version,
      ).toBe(2n);
    }
  });
});
