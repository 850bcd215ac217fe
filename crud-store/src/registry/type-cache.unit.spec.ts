import { silentLogger } from "@eskit/server-kit/logger.js";
import { afterEach, describe, expect, it } from "vitest";
import { InMemoryEventStore } from "../../test/support/in-memory-event-store.js";
import { ValidationError } from "../domain/errors.js";
import { registryIdPrefix } from "../domain/names.js";
import type { EventStorePort, FollowedBatch } from "../store/event-store-port.js";
import { TypeCache, type TypeCacheOptions } from "./type-cache.js";
import { TypeRegistry, type TypeSpec } from "./type-registry.js";

const options: TypeCacheOptions = { maxAgeMs: 60_000, maxEntries: 100, silenceMs: 60_000, retryMs: 10 };
const schema = JSON.stringify({ type: "object", required: ["name"] });
const spec = (entityType: string, jsonSchema = schema, schemaVersion = 1n): TypeSpec => ({
  entityType,
  schemaVersion,
  jsonSchema,
});

const caches: TypeCache[] = [];
afterEach(async () => {
  await Promise.all(caches.splice(0).map((c) => c.stop()));
});

function startCache(eventStore: EventStorePort, overrides: Partial<TypeCacheOptions> = {}): TypeCache {
  const cache = new TypeCache(eventStore, { ...options, ...overrides }, silentLogger);
  caches.push(cache);
  cache.start();
  return cache;
}

async function until(condition: () => boolean, ms = 2000): Promise<void> {
  const end = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > end) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** The reads of a type's registry record since `since`. */
const registryReads = (store: InMemoryEventStore, entityType: string, since = 0) =>
  store.calls.slice(since).filter((c) => c.method === "getEvents" && c.originatorId === registryIdPrefix + entityType)
    .length;

describe("TypeCache", () => {
  it("serves a type from memory once read, and a change made on another replica as soon as the log brings it", async () => {
    const store = new InMemoryEventStore();
    const cacheB = startCache(store);
    await until(() => cacheB.isLive);
    const a = new TypeRegistry(store, startCache(store));
    const b = new TypeRegistry(store, cacheB);
    await b.validate("acme.User", {}, {});
    const before = store.calls.length;
    await b.validate("acme.User", {}, {});
    expect(registryReads(store, "acme.User", before)).toBe(0);

    await a.register(spec("acme.User"), false, {});
    // Replica B learns of it from the log, not from a timer (maxAgeMs is a minute here).
    const start = performance.now();
    for (;;) {
      const outcome = await b.validate("acme.User", {}, {}).then(
        () => "accepted",
        (error: unknown) => (error instanceof ValidationError ? "refused" : String(error)),
      );
      if (outcome === "refused") break;
      expect(outcome).toBe("accepted");
      expect(performance.now() - start).toBeLessThan(1000);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await b.validate("acme.User", { name: "Ada" }, {});
  });

  it("makes the replica that changed a type enforce it at once, with no wait for the log", async () => {
    const store = new InMemoryEventStore();
    const cache = startCache(store);
    await until(() => cache.isLive);
    const registry = new TypeRegistry(store, cache);
    await registry.validate("acme.User", {}, {});
    await registry.register(spec("acme.User"), false, {});
    await expect(registry.validate("acme.User", {}, {})).rejects.toThrow(ValidationError);
    await registry.update(spec("acme.User", "", 2n), {});
    await registry.validate("acme.User", {}, {});
  });

  it("does not keep a read that overlapped an invalidation: it may hold the spec from before the change", async () => {
    const cache = startCache(new InMemoryEventStore());
    await until(() => cache.isLive);
    let release: (spec: TypeSpec | undefined) => void = () => {};
    const slow = cache.get("t", () => new Promise((resolve) => (release = resolve)));
    cache.invalidate("t");
    release(spec("t", "")); // the old spec, read before the change
    expect(await slow).toEqual(spec("t", ""));
    let reads = 0;
    const fresh = await cache.get("t", async () => (reads++, spec("t")));
    expect([reads, fresh]).toEqual([1, spec("t")]);
    await cache.get("t", async () => (reads++, spec("t")));
    expect(reads).toBe(1);
  });

  it("reads again once an entry is maxAgeMs old, whatever the follower says", async () => {
    const cache = startCache(new InMemoryEventStore(), { maxAgeMs: 30 });
    await until(() => cache.isLive);
    let reads = 0;
    const read = async () => (reads++, undefined);
    await cache.get("t", read);
    await cache.get("t", read);
    expect(reads).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 40));
    await cache.get("t", read);
    expect(reads).toBe(2);
  });

  it("keeps at most maxEntries types, dropping the one filled longest ago", async () => {
    const cache = startCache(new InMemoryEventStore(), { maxEntries: 2 });
    await until(() => cache.isLive);
    const reads: string[] = [];
    const get = (t: string) => cache.get(t, async () => (reads.push(t), undefined));
    for (const t of ["a", "b", "c", "b", "c", "a"]) await get(t);
    expect(reads).toEqual(["a", "b", "c", "a"]);
  });

  it("is off while its follower fails, and on again once a new one has started", async () => {
    const store = new InMemoryEventStore();
    let failing = true;
    const flaky: EventStorePort = Object.assign(Object.create(store) as InMemoryEventStore, {
      followEntityType(entityType: string, fromId: bigint, signal: AbortSignal): AsyncIterable<FollowedBatch> {
        if (failing) throw new Error("connection refused");
        return store.followEntityType(entityType, fromId, signal);
      },
    });
    const cache = startCache(flaky);
    let reads = 0;
    const read = async () => (reads++, undefined);
    await new Promise((resolve) => setTimeout(resolve, 30));
    await cache.get("t", read);
    await cache.get("t", read);
    expect([cache.isLive, reads]).toEqual([false, 2]);
    failing = false;
    await until(() => cache.isLive, 5000);
    await cache.get("t", read);
    await cache.get("t", read);
    expect(reads).toBe(3);
  });

  it("takes a follower that falls silent for silenceMs for dead, and empties the cache", async () => {
    const store = new InMemoryEventStore();
    const silent: EventStorePort = Object.assign(Object.create(store) as InMemoryEventStore, {
      async *followEntityType(_t: string, _from: bigint, signal: AbortSignal): AsyncIterable<FollowedBatch> {
        await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
        signal.throwIfAborted();
      },
    });
    const cache = startCache(silent, { silenceMs: 40, retryMs: 1000 });
    await until(() => cache.isLive);
    let reads = 0;
    await cache.get("t", async () => (reads++, undefined));
    await until(() => !cache.isLive, 1000);
    await cache.get("t", async () => (reads++, undefined));
    expect(reads).toBe(2);
  });

  it("with maxAgeMs 0 is off: nothing followed, every write reads the registry", async () => {
    const store = new InMemoryEventStore();
    const cache = startCache(store, { maxAgeMs: 0 });
    const registry = new TypeRegistry(store, cache);
    await registry.validate("t", {}, {});
    await registry.validate("t", {}, {});
    expect([cache.isLive, registryReads(store, "t"), store.calls.some((c) => c.method === "followEntityType")]).toEqual(
      [false, 2, false],
    );
  });
});
