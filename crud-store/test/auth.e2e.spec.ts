import { randomUUID } from "node:crypto";
import { Code } from "@connectrpc/connect";
import { HealthCheckResponse_ServingStatus as ServingStatus } from "@eskit/gen/grpc/health/v1/health_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { healthz, protocols, startCrudStoreHarness, type CrudClients, type CrudStoreHarness } from "./harness.js";
import { freshId, freshType, rejection } from "./support/documents.js";

// A Crud Store with tokens of its own in front of an Event Store with tokens of its own: the Crud Store's callers
// present Crud Store tokens, and the Crud Store presents EVENT_STORE_TOKEN to the Event Store. Then Crud Stores that
// are misconfigured towards the Event Store (no token, a wrong one, a read-only one).

const eventStoreFull = `es-full-${randomUUID()}`;
const eventStoreRead = `es-read-${randomUUID()}`;
const crudFull = `crud-full-${randomUUID()}`;
const crudRead = `crud-read-${randomUUID()}`;

let harness: CrudStoreHarness;
beforeAll(async () => {
  harness = await startCrudStoreHarness({
    eventStoreConfig: { authTokens: [eventStoreFull], readTokens: [eventStoreRead] },
    config: { authTokens: [crudFull], readTokens: [crudRead], eventStoreToken: eventStoreFull },
  });
});
afterAll(async () => {
  await harness?.stop();
});

const json = (value: unknown): string => JSON.stringify(value);
const schema = json({ type: "object", required: ["name"] });

describe.each(protocols)("a Crud Store with tokens, over %s", (protocol) => {
  let none: CrudClients;
  let read: CrudClients;
  let full: CrudClients;
  beforeAll(() => {
    none = harness.clients(protocol);
    read = harness.clients(protocol, crudRead);
    full = harness.clients(protocol, crudFull);
  });

  it("works end to end with a full token, through the Event Store's tokens", async () => {
    const entityType = freshType("auth");
    await full.crud.registerType({ spec: { entityType, schemaSpec: { schemaVersion: 1n, jsonSchema: schema } } });
    const id = freshId();
    await full.crud.create({ entityType, originator: { id }, payload: json({ name: "Ada" }) });
    await full.crud.update({ entityType, originator: { id, version: 1n }, payload: json({ name: "Ada L." }) });
    expect((await full.crud.get({ entityType, originator: { id } })).payload).toBe(json({ name: "Ada L." }));
    expect((await full.crud.delete({ entityType, originator: { id } })).originator?.version).toBe(3n);
    // Stored in the Event Store, which only a token of its own can read.
    const events = await harness.eventStoreClient(eventStoreFull).readEvents(id);
    expect(events.map((e) => e.eventType)).toEqual([
      `${entityType}.Created`,
      `${entityType}.Updated`,
      `${entityType}.Deleted`,
    ]);
  });

  it("refuses every RPC without a token, and with an Event Store token, with unauthenticated", async () => {
    const entityType = freshType("anon");
    const withEventStoreToken = harness.clients(protocol, eventStoreFull);
    for (const { crud } of [none, withEventStoreToken]) {
      expect((await rejection(crud.create({ entityType, payload: "{}" }))).code).toBe(Code.Unauthenticated);
      expect((await rejection(crud.get({ entityType, originator: { id: "x" } }))).code).toBe(Code.Unauthenticated);
      expect((await rejection(crud.listTypes({}))).code).toBe(Code.Unauthenticated);
    }
    expect((await none.health.check({})).status).toBe(ServingStatus.SERVING);
  });

  it("lets a read token read, and refuses its writes with permission_denied", async () => {
    const entityType = freshType("ro");
    const id = freshId();
    await full.crud.registerType({ spec: { entityType, schemaSpec: { schemaVersion: 1n, jsonSchema: schema } } });
    await full.crud.create({ entityType, originator: { id }, payload: json({ name: "Grace" }) });

    expect((await read.crud.get({ entityType, originator: { id } })).payload).toBe(json({ name: "Grace" }));
    expect((await read.crud.list({ entityType })).results.map((r) => r.originator?.id)).toEqual([id]);
    expect((await read.crud.history({ entityType, originatorId: id })).revisions).toHaveLength(1);
    expect((await read.crud.getType({ entityType })).spec?.entityType).toBe(entityType);
    expect((await read.crud.listTypes({ limit: 1000 })).results.map((s) => s.entityType)).toContain(entityType);

    const denied = async (call: Promise<unknown>, method: string) =>
      expect(await rejection(call)).toEqual({
        code: Code.PermissionDenied,
        message: `eskit.crudstore.v1.CrudStoreService/${method} changes data: it needs a full token, and this one may only read`,
      });
    await denied(read.crud.create({ entityType, payload: json({ name: "x" }) }), "Create");
    await denied(
      read.crud.update({ entityType, originator: { id, version: 1n }, payload: json({ name: "x" }) }),
      "Update",
    );
    await denied(read.crud.delete({ entityType, originator: { id } }), "Delete");
    await denied(read.crud.registerType({ spec: { entityType: freshType("ro") } }), "RegisterType");
    await denied(
      read.crud.updateType({ spec: { entityType, schemaSpec: { schemaVersion: 2n, jsonSchema: schema } } }),
      "UpdateType",
    );
    expect((await full.crud.get({ entityType, originator: { id } })).originator?.version).toBe(1n);
  });
});

describe("a Crud Store whose Event Store refuses its token", () => {
  it("answers internal, naming EVENT_STORE_TOKEN, and reports unhealthy on /healthz and Health", async () => {
    for (const eventStoreToken of [undefined, `wrong-${randomUUID()}`]) {
      const replica = await harness.addCrudStore({ eventStoreToken });
      const { crud, health } = replica.clients("grpc", crudFull);
      const refused = await rejection(crud.get({ entityType: freshType("mis"), originator: { id: "x" } }));
      expect(refused.code).toBe(Code.Internal);
      expect(refused.message).toMatch(/^the Event Store refused the Crud Store's token \(check EVENT_STORE_TOKEN\): /u);
      expect((await rejection(crud.create({ entityType: freshType("mis"), payload: "{}" }))).code).toBe(Code.Internal);
      expect(await healthz(replica.url)).toEqual({ status: 503, body: { status: "unavailable" } });
      expect((await health.check({})).status).toBe(ServingStatus.NOT_SERVING);
    }
  });

  it("with a read-only EVENT_STORE_TOKEN, reads work and writes answer internal", async () => {
    const entityType = freshType("half");
    const id = freshId();
    await harness.clients("grpc", crudFull).crud.create({ entityType, originator: { id }, payload: json({ n: 1 }) });
    const replica = await harness.addCrudStore({ eventStoreToken: eventStoreRead });
    const { crud } = replica.clients("connect", crudFull);
    expect((await crud.get({ entityType, originator: { id } })).payload).toBe(json({ n: 1 }));
    const refused = await rejection(
      crud.update({ entityType, originator: { id, version: 1n }, payload: json({ n: 2 }) }),
    );
    expect(refused.code).toBe(Code.Internal);
    expect(refused.message).toMatch(
      /^the Event Store refused a write: the Crud Store's token may only read \(check EVENT_STORE_TOKEN\): /u,
    );
    // The health check reads, so it passes: only a write shows a read-only token (see README, Access control).
    expect((await healthz(replica.url)).status).toBe(200);
  });

  it("is healthy with a valid token", async () => {
    expect(await healthz(harness.url)).toEqual({ status: 200, body: { status: "ok" } });
  });
});
