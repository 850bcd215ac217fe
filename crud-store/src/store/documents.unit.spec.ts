import { silentLogger } from "@eskit/server-kit/logger.js";
import { describe, expect, it } from "vitest";
import { inMemoryCore } from "../../test/support/in-memory-core.js";
import { InMemoryEventStore } from "../../test/support/in-memory-event-store.js";
import { AlreadyExistsError, ConcurrencyError, NotFoundError, ValidationError } from "../domain/errors.js";
import { TypeRegistry } from "../registry/type-registry.js";
import { DocumentStore } from "./documents.js";
import type { CallScope, NewEvent } from "./event-store-port.js";
import { StateReader } from "./state-reader.js";

const type = "acme.User";
const scope: CallScope = {};

describe("DocumentStore on an in-memory Event Store", () => {
  it("creates a document at version 1 and reads it back", async () => {
    const { documents, eventStore } = inMemoryCore();
    expect(await documents.create(type, "u1", 0n, '{"name":"Ada"}', scope)).toEqual({ id: "u1", version: 1n });
    expect(await documents.get(type, "u1", 0n, false, scope)).toEqual({
      id: "u1",
      version: 1n,
      document: { name: "Ada" },
    });
    const [created] = eventStore.eventsOf("u1");
    expect(created).toMatchObject({
      eventType: "acme.User.Created",
      version: 1n,
      payload: '{"name":"Ada"}',
      metadata: { "eskit.source": "crud-store" },
    });
  });

  it("gives a document created without an id a UUID", async () => {
    const { documents } = inMemoryCore();
    const ref = await documents.create(type, "", 0n, "{}", scope);
    expect(ref.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/u);
  });

  it("refuses a second create of the same id with AlreadyExistsError and keeps the first", async () => {
    const { documents, eventStore } = inMemoryCore();
    await documents.create(type, "u1", 1n, '{"n":1}', scope);
    await expect(documents.create(type, "u1", 1n, '{"n":2}', scope)).rejects.toThrow(AlreadyExistsError);
    expect(eventStore.eventsOf("u1")).toHaveLength(1);
    expect((await documents.get(type, "u1", 0n, false, scope)).document).toEqual({ n: 1 });
  });

  it("updates at the latest version, keeps every version readable, and stores a merge patch", async () => {
    const { documents, eventStore } = inMemoryCore();
    await documents.create(type, "u1", 0n, '{"name":"Ada","age":36}', scope);
    expect(await documents.update(type, "u1", 1n, '{"name":"Ada","age":37}', scope)).toEqual({ id: "u1", version: 2n });
    expect((await documents.get(type, "u1", 1n, false, scope)).document).toEqual({ name: "Ada", age: 36 });
    expect((await documents.get(type, "u1", 2n, false, scope)).document).toEqual({ name: "Ada", age: 37 });
    expect(eventStore.eventsOf("u1")[1]).toMatchObject({
      eventType: "acme.User.Updated",
      payload: '{"age":37}',
      metadata: { "eskit.encoding": "merge-patch" },
    });
  });

  it("refuses an update at a stale version with ConcurrencyError and appends nothing", async () => {
    const { documents, eventStore } = inMemoryCore();
    await documents.create(type, "u1", 0n, '{"n":1}', scope);
    await documents.update(type, "u1", 1n, '{"n":2}', scope);
    await expect(documents.update(type, "u1", 1n, '{"n":3}', scope)).rejects.toThrow(
      new ConcurrencyError('acme.User "u1" is at version 2, not 1: read it again and retry with version 2', {
        document: { entityType: type, id: "u1", basedOnVersion: 1n, currentVersion: 2n },
      }),
    );
    expect(eventStore.eventsOf("u1")).toHaveLength(2);
  });

  it("answers an update that changes nothing with the current version, appending nothing", async () => {
    const { documents, eventStore } = inMemoryCore();
    await documents.create(type, "u1", 0n, '{"n":1}', scope);
    expect(await documents.update(type, "u1", 1n, '{"n":1}', scope)).toEqual({ id: "u1", version: 1n });
    expect(eventStore.eventsOf("u1")).toHaveLength(1);
  });

  it("lets exactly one of two concurrent updates of the same version win; the other gets ConcurrencyError", async () => {
    const { documents, eventStore } = inMemoryCore();
    await documents.create(type, "u1", 0n, '{"n":0}', scope);
    eventStore.holdAppends(2);
    const outcomes = await Promise.allSettled([
      documents.update(type, "u1", 1n, '{"n":"a"}', scope),
      documents.update(type, "u1", 1n, '{"n":"b"}', scope),
    ]);
    const won = outcomes.filter((o) => o.status === "fulfilled");
    const lost = outcomes.flatMap((o) => (o.status === "rejected" ? [o.reason] : []));
    expect(won).toEqual([{ status: "fulfilled", value: { id: "u1", version: 2n } }]);
    expect(lost).toHaveLength(1);
    expect(lost[0]).toBeInstanceOf(ConcurrencyError);
    expect(eventStore.eventsOf("u1")).toHaveLength(2);
    const winner = outcomes[0]!.status === "fulfilled" ? "a" : "b";
    expect((await documents.get(type, "u1", 0n, false, scope)).document).toEqual({ n: winner });
  });

  it("lets exactly one of two concurrent creates of the same id win; the other gets AlreadyExistsError", async () => {
    const { documents, eventStore } = inMemoryCore();
    eventStore.holdAppends(2);
    const outcomes = await Promise.allSettled([
      documents.create(type, "u1", 0n, '{"n":"a"}', scope),
      documents.create(type, "u1", 0n, '{"n":"b"}', scope),
    ]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(["fulfilled", "rejected"]);
    expect(outcomes.flatMap((o) => (o.status === "rejected" ? [o.reason] : []))[0]).toBeInstanceOf(AlreadyExistsError);
    expect(eventStore.eventsOf("u1")).toHaveLength(1);
  });

  it("deletes at the latest version: then a read is NotFoundError unless it asks for deleted documents", async () => {
    const { documents } = inMemoryCore();
    await documents.create(type, "u1", 0n, '{"n":1}', scope);
    expect(await documents.delete(type, "u1", 1n, scope)).toEqual({ id: "u1", version: 2n });
    await expect(documents.get(type, "u1", 0n, false, scope)).rejects.toThrow(NotFoundError);
    expect(await documents.get(type, "u1", 0n, true, scope)).toEqual({ id: "u1", version: 2n, document: { n: 1 } });
    await expect(documents.update(type, "u1", 2n, '{"n":2}', scope)).rejects.toThrow(NotFoundError);
    await expect(documents.delete(type, "u1", 0n, scope)).rejects.toThrow(NotFoundError);
  });

  it("answers NotFoundError for an unknown id, a version not reached, and a document of another type", async () => {
    const { documents } = inMemoryCore();
    await documents.create(type, "u1", 0n, "{}", scope);
    await expect(documents.get(type, "nobody", 0n, false, scope)).rejects.toThrow(NotFoundError);
    await expect(documents.get(type, "u1", 2n, false, scope)).rejects.toThrow(
      new NotFoundError('acme.User "u1" has no version 2: its latest is 1'),
    );
    await expect(documents.get("acme.Order", "u1", 0n, false, scope)).rejects.toThrow(NotFoundError);
  });

  it("refuses malformed requests with ValidationError before touching the Event Store", async () => {
    const { documents, eventStore } = inMemoryCore();
    await expect(documents.create(type, "u1", 2n, "{}", scope)).rejects.toThrow(ValidationError);
    await expect(documents.create(type, "u1", 0n, "[1]", scope)).rejects.toThrow(ValidationError);
    await expect(documents.create("bad type", "u1", 0n, "{}", scope)).rejects.toThrow(ValidationError);
    await expect(documents.update(type, "u1", 0n, "{}", scope)).rejects.toThrow(ValidationError);
    expect(eventStore.calls).toEqual([]);
  });

  it("hands the caller's scope to the Event Store: a cancelled caller's write fails with its reason, appending nothing", async () => {
    const { documents, eventStore } = inMemoryCore();
    const controller = new AbortController();
    const reason = new Error("the caller went away");
    controller.abort(reason);
    await expect(documents.create(type, "u1", 0n, "{}", { signal: controller.signal })).rejects.toBe(reason);
    expect(eventStore.eventsOf("u1")).toEqual([]);
  });

  it("passes an Event Store failure it does not know through unchanged", async () => {
    const outage = new Error("the Event Store is unreachable");
    const eventStore = new (class extends InMemoryEventStore {
      override async append(_events: readonly NewEvent[], _scope: CallScope): Promise<void> {
        throw outage;
      }
    })();
    const states = new StateReader(eventStore, 0, silentLogger);
    const documents = new DocumentStore(eventStore, states, new TypeRegistry(eventStore));
    await expect(documents.create(type, "u1", 0n, "{}", scope)).rejects.toBe(outage);
  });
});
