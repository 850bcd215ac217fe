import { describe, expect, it } from "vitest";
import { inMemoryCore } from "../../test/support/in-memory-core.js";
import {
  AlreadyExistsError,
  ConcurrencyError,
  NotFoundError,
  PreconditionError,
  ValidationError,
} from "../domain/errors.js";
import type { CallScope } from "../store/event-store-port.js";

const scope: CallScope = {};
const userSchema = JSON.stringify({
  type: "object",
  properties: { name: { type: "string" } },
  required: ["name"],
});

describe("TypeRegistry on an in-memory Event Store", () => {
  it("registers a type and reads its spec back", async () => {
    const { registry } = inMemoryCore();
    const spec = { entityType: "acme.User", schemaVersion: 1n, jsonSchema: userSchema };
    await registry.register(spec, false, scope);
    expect(await registry.get("acme.User", scope)).toEqual(spec);
  });

  it("refuses a second registration with AlreadyExistsError, or skips it when asked, keeping the first", async () => {
    const { registry } = inMemoryCore();
    await registry.register({ entityType: "acme.User", schemaVersion: 1n, jsonSchema: "" }, false, scope);
    const again = { entityType: "acme.User", schemaVersion: 5n, jsonSchema: userSchema };
    await expect(registry.register(again, false, scope)).rejects.toThrow(AlreadyExistsError);
    await registry.register(again, true, scope);
    expect((await registry.get("acme.User", scope)).schemaVersion).toBe(1n);
  });

  it("updates to a higher schema_version only; an unknown type is NotFoundError", async () => {
    const { registry } = inMemoryCore();
    await registry.register({ entityType: "acme.User", schemaVersion: 2n, jsonSchema: "" }, false, scope);
    await expect(
      registry.update({ entityType: "acme.User", schemaVersion: 2n, jsonSchema: userSchema }, scope),
    ).rejects.toThrow(PreconditionError);
    await registry.update({ entityType: "acme.User", schemaVersion: 3n, jsonSchema: userSchema }, scope);
    expect(await registry.get("acme.User", scope)).toEqual({
      entityType: "acme.User",
      schemaVersion: 3n,
      jsonSchema: userSchema,
    });
    await expect(registry.get("acme.Nobody", scope)).rejects.toThrow(NotFoundError);
    await expect(
      registry.update({ entityType: "acme.Nobody", schemaVersion: 1n, jsonSchema: "" }, scope),
    ).rejects.toThrow(NotFoundError);
  });

  it("lets exactly one of two concurrent updates win; the other gets ConcurrencyError", async () => {
    const { registry, eventStore } = inMemoryCore();
    await registry.register({ entityType: "acme.User", schemaVersion: 1n, jsonSchema: "" }, false, scope);
    eventStore.holdAppends(2);
    const outcomes = await Promise.allSettled([
      registry.update({ entityType: "acme.User", schemaVersion: 2n, jsonSchema: "" }, scope),
      registry.update({ entityType: "acme.User", schemaVersion: 3n, jsonSchema: "" }, scope),
    ]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(["fulfilled", "rejected"]);
    expect(outcomes.flatMap((o) => (o.status === "rejected" ? [o.reason] : []))[0]).toBeInstanceOf(ConcurrencyError);
    const winner = outcomes[0]!.status === "fulfilled" ? 2n : 3n;
    expect((await registry.get("acme.User", scope)).schemaVersion).toBe(winner);
  });

  it("refuses a schema that does not compile, registering nothing", async () => {
    const { registry, eventStore } = inMemoryCore();
    const bad = { entityType: "acme.User", schemaVersion: 1n, jsonSchema: '{"type":"no such type"}' };
    await expect(registry.register(bad, false, scope)).rejects.toThrow(ValidationError);
    expect(eventStore.calls).toEqual([]);
  });

  it("makes documents of a type match its schema; a type without one, or unregistered, takes any object", async () => {
    const { registry, documents, eventStore } = inMemoryCore();
    await registry.register({ entityType: "acme.User", schemaVersion: 1n, jsonSchema: userSchema }, false, scope);
    await expect(documents.create("acme.User", "u1", 0n, '{"name":7}', scope)).rejects.toThrow(ValidationError);
    expect(eventStore.eventsOf("u1")).toEqual([]);
    await documents.create("acme.User", "u1", 0n, '{"name":"Ada"}', scope);
    await expect(documents.update("acme.User", "u1", 1n, "{}", scope)).rejects.toThrow(ValidationError);
    await documents.create("acme.Free", "f1", 0n, '{"anything":[1]}', scope);
    expect(eventStore.eventsOf("u1")).toHaveLength(1);
    expect(eventStore.eventsOf("f1")).toHaveLength(1);
  });

  it("lists the registered types a page at a time, in order", async () => {
    const { registry } = inMemoryCore();
    for (const name of ["c", "a", "b"]) {
      await registry.register({ entityType: `acme.${name}`, schemaVersion: 1n, jsonSchema: "" }, false, scope);
    }
    const first = await registry.list(2, "", scope);
    expect(first.specs.map((s) => s.entityType)).toEqual(["acme.a", "acme.b"]);
    const second = await registry.list(2, first.nextPageToken, scope);
    expect(second.specs.map((s) => s.entityType)).toEqual(["acme.c"]);
    expect(second.nextPageToken).toBe("");
    await expect(registry.list(1001, "", scope)).rejects.toThrow(ValidationError);
  });
});
