import { Code } from "@connectrpc/connect";
import { startTcpProxy, type TcpProxy } from "@eskit/test-kit/tcp-proxy.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CrudClient, startCrudStoreHarness, type CrudStoreHarness } from "./harness.js";
import { freshType, outcome, sleep } from "./support/documents.js";

// Each Crud Store replica caches the type registry and drops a type when a change to it arrives on the Application
// Log. The caches here keep a type for a minute (ESKIT_TYPE_CACHE_MAX_AGE_MS), so only the log can have told replica
// B of a change made through replica A.

/**
 * How soon a change made on one replica must be enforced by another. It takes milliseconds (docs/guarantees.md); the
 * bound leaves room for a machine loaded by the whole test suite, and is still far below the caches' one-minute
 * max age, so only the log can have told the other replica.
 */
const propagationMs = 5000;
const cacheConfig = { typeCacheMaxAgeMs: 60_000 };
const schema = JSON.stringify({ type: "object", required: ["name"] });

let harness: CrudStoreHarness;
let proxy: TcpProxy;
let a: CrudClient;
let b: CrudClient;
/** A third replica, which reaches the Event Store through `proxy`. */
let c: CrudClient;

beforeAll(async () => {
  harness = await startCrudStoreHarness({ config: cacheConfig });
  proxy = await startTcpProxy({ host: "127.0.0.1", port: harness.eventStore.port });
  a = harness.clients().crud;
  b = (await harness.addCrudStore(cacheConfig)).clients().crud;
  c = (await harness.addCrudStore({ ...cacheConfig, eventStoreUrl: `http://127.0.0.1:${proxy.port}` })).clients().crud;
});
afterAll(async () => {
  await harness?.stop();
  await proxy?.close();
});

/** Creates a document of `entityType` with `payload` on `client`: "ok", or the error's code. */
const create = (client: CrudClient, entityType: string, payload: object) =>
  outcome(client.create({ entityType, payload: JSON.stringify(payload) }));

/** Retries the Create until it answers `want`; how long that took. Anything but `want` or `from` fails the test. */
async function untilAnswered(
  client: CrudClient,
  entityType: string,
  payload: object,
  from: Code | "ok",
  want: Code | "ok",
): Promise<number> {
  const start = performance.now();
  for (;;) {
    const got = await create(client, entityType, payload);
    const ms = performance.now() - start;
    if (got === want) return ms;
    expect(got).toBe(from);
    expect(ms, `still ${String(from)} after ${ms.toFixed(0)} ms`).toBeLessThan(propagationMs);
    await sleep(2);
  }
}

describe("the type cache of Crud Store replicas", () => {
  it("enforces a schema registered on another replica within milliseconds, and its removal too", async () => {
    const entityType = freshType("cached");
    // B has read the type (not registered: anything goes) and keeps that for a minute unless the log says otherwise.
    expect(await create(b, entityType, {})).toBe("ok");
    expect(await create(b, entityType, {})).toBe("ok");

    await a.registerType({ spec: { entityType, schemaSpec: { schemaVersion: 1n, jsonSchema: schema } } });
    // A enforces it at once; B as soon as the registration reaches it on the log.
    expect(await create(a, entityType, {})).toBe(Code.InvalidArgument);
    const registered = await untilAnswered(b, entityType, {}, "ok", Code.InvalidArgument);
    expect(await create(b, entityType, { name: "Ada" })).toBe("ok");

    await a.updateType({ spec: { entityType, schemaSpec: { schemaVersion: 2n, jsonSchema: "" } } });
    const dropped = await untilAnswered(b, entityType, {}, Code.InvalidArgument, "ok");
    expect(registered + dropped).toBeLessThan(2 * propagationMs);
  });

  it("forgets every cached type when its link to the Event Store breaks, so a change made meanwhile is not missed", async () => {
    const entityType = freshType("cut");
    expect(await create(c, entityType, {})).toBe("ok");
    await proxy.cut();
    await a.registerType({ spec: { entityType, schemaSpec: { schemaVersion: 1n, jsonSchema: schema } } });
    await proxy.restore();
    // Until the link is back C answers unavailable; once it is, the schema holds: never an "ok" in between.
    const start = performance.now();
    for (;;) {
      const got = await create(c, entityType, {});
      if (got === Code.InvalidArgument) break;
      expect(got).toBe(Code.Unavailable);
      expect(performance.now() - start).toBeLessThan(10_000);
      await sleep(20);
    }
    // And still once its follower of the log is back (it retries within a second): nothing cached survived the cut.
    await sleep(1500);
    expect(await create(c, entityType, {})).toBe(Code.InvalidArgument);
    expect(await create(c, entityType, { name: "Ada" })).toBe("ok");
  });
});
