/**
 * examples/documents-by-field against the real services: an Event Store and a Crud Store as processes (on PostgreSQL
 * when DATABASE_URL is set), documents created, edited, replaced and deleted through the Crud Store, and the example's
 * read model in a PostgreSQL database of its own. Whatever was written, its query API must answer exactly what a fresh
 * scan of the Crud Store's List answers, filtered by the same fields; stopped or killed with SIGKILL mid-way and
 * started again, it must go on from where it was. The projection refuses an entry applied twice or skipped (a version
 * that does not follow: document-changes.ts), so either would stop it, and the tests check that it never stopped.
 */
import { createClient } from "@connectrpc/connect";
import { createEventStoreClient, CrudStoreService, type EventStoreClient } from "@eskit/client";
import { createNodeTransport, type NodeTransport } from "@eskit/client/node.js";
import {
  createTestStorage,
  dropDatabase,
  freshDatabaseUrl,
  spawnEventStore,
  type SpawnedEventStore,
  type TestStorage,
} from "@eskit/test-kit/event-store.js";
import { spawnService, type SpawnedService } from "@eskit/test-kit/service-process.js";
import { testSize } from "@eskit/test-kit/test-sizes.js";
import fc from "fast-check";
import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDocumentsByField, type DocumentsByField } from "../documents-by-field/app.js";
import {
  CustomerWriter,
  listAll,
  matching,
  queries,
  step,
  type CrudStore,
  type Document,
  type Listed,
  type Step,
} from "./customer-workload.js";
import { seededRandom } from "./example-workload.js";

// The read model's database must be PostgreSQL: the projection holds a session advisory lock on a second connection.
const postgresUrl = process.env["DATABASE_URL"];
const skipReason = postgresUrl ? "" : " (skipped: needs PostgreSQL, set DATABASE_URL)";
const seed = Number(process.env["ESKIT_TEST_SEED"] ?? Date.now() % 100_000);
const context = `seed ${seed} (set ESKIT_TEST_SEED to repeat)`;
const numRuns = Number(process.env["ESKIT_TEST_RUNS"] ?? testSize(24, 6));
const startTimeoutMs = 90_000;

/** The example's /status, as JSON (bigints as strings). */
interface Status {
  readonly state: string;
  readonly position: string;
  readonly applied: number;
  readonly lastError?: { readonly message: string };
}

async function getJson<T>(url: string): Promise<{ status: number; body: T }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return { status: response.status, body: (await response.json()) as T };
}

/** Every page of `/customers` for `query`, `limit` per page, checking that pages follow each other in id order. */
async function queryAll(baseUrl: string, query: Record<string, string>, limit: number): Promise<Listed[]> {
  const found: Listed[] = [];
  let after: string | undefined;
  for (let page = 0; page < 10_000; page++) {
    const params = new URLSearchParams({ ...query, limit: String(limit), ...(after === undefined ? {} : { after }) });
    const { status, body } = await getJson<{
      customers: Array<{ id: string; version: string; document: Document }>;
      next?: string;
    }>(`${baseUrl}/customers?${params}`);
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body.customers.length).toBeLessThanOrEqual(limit);
    for (const c of body.customers) found.push({ id: c.id, version: BigInt(c.version), document: c.document });
    if (body.next === undefined) break;
    expect(body.next).toBe(body.customers.at(-1)?.id);
    after = body.next;
  }
  const ids = found.map((c) => c.id);
  expect(ids, "pages in strictly increasing id order, none twice").toEqual([...new Set(ids)].sort());
  return found;
}

describe.skipIf(!postgresUrl)(`the documents-by-field example${skipReason}`, () => {
  let storage: TestStorage;
  let eventStore: SpawnedEventStore;
  let crudStore: SpawnedService;
  let transport: NodeTransport;
  let crud: CrudStore;
  let logTransport: NodeTransport;
  let log: EventStoreClient;
  const tag = randomBytes(3).toString("hex");
  let runs = 0;

  beforeAll(
    async () => {
      storage = await createTestStorage();
      eventStore = await spawnEventStore(storage.env, startTimeoutMs);
      crudStore = await spawnService({
        entry: "crud-store/src/main.ts",
        env: { EVENT_STORE_URL: eventStore.url },
        startTimeoutMs,
      });
      transport = createNodeTransport({ baseUrl: crudStore.url, protocol: "grpc" });
      crud = createClient(CrudStoreService, transport);
      logTransport = createNodeTransport({ baseUrl: eventStore.url, protocol: "grpc" });
      log = createEventStoreClient(logTransport);
    },
    2 * startTimeoutMs + 30_000,
  );

  afterAll(async () => {
    transport?.close();
    logTransport?.close();
    await crudStore?.stop();
    await eventStore?.stop();
    await storage?.remove();
  });

  /** The id of the last entry of `entityType` on the log, 0 when none. */
  async function lastEntryOf(entityType: string): Promise<bigint> {
    let last = 0n;
    for await (const page of log.pageLogs({ selector: `${entityType}.*`, size: 1000 })) {
      last = page.entries.at(-1)?.id ?? last;
    }
    return last;
  }

  /**
   * Waits until `status()` reports the projection running (its table made) and the last entry of `entityType`
   * applied; fails at once if the projection failed.
   */
  async function caughtUp(entityType: string, status: () => Promise<Status>, timeoutMs = 60_000): Promise<Status> {
    const last = await lastEntryOf(entityType);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const now = await status();
      expect(now.state, `the projection stopped: ${now.lastError?.message}; ${context}`).not.toBe("failed");
      if (now.state === "running" && BigInt(now.position) >= last) return now;
      if (Date.now() > deadline) throw new Error(`not at log id ${last} in ${timeoutMs} ms: ${JSON.stringify(now)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Every query of customer-workload.ts answered by the example equals List filtered the same way. */
  async function expectAnswersOfList(baseUrl: string, entityType: string, limit: number, when: string) {
    const listed = await listAll(crud, entityType);
    for (const query of queries()) {
      expect(await queryAll(baseUrl, query, limit), `${JSON.stringify(query)} ${when}; ${context}`).toEqual(
        matching(listed, query),
      );
    }
    return listed;
  }

  function inProcess(databaseUrl: string, entityType: string, batchSize: number): Promise<DocumentsByField> {
    const silent = () => {};
    return startDocumentsByField(
      {
        eventStoreUrl: eventStore.url,
        databaseUrl,
        entityType,
        batchSize,
        host: "127.0.0.1",
        port: 0,
        token: undefined,
      },
      { info: silent, warn: silent, error: silent },
    );
  }
  const statusOf = (app: DocumentsByField) => async () =>
    JSON.parse(JSON.stringify(app.projection.status(), (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v)));

  /** How the log stored the changes the property's runs made: each kind must have been projected at least once. */
  const stored = { created: 0, patched: 0, replaced: 0, deleted: 0 };
  async function countStored(entityType: string): Promise<void> {
    for await (const page of log.pageLogs({ selector: `${entityType}.*`, size: 1000 })) {
      for (const { event } of page.entries) {
        const action = event?.eventType.slice(entityType.length + 1);
        if (action === "Created") stored.created++;
        if (action === "Deleted") stored.deleted++;
        if (action === "Updated" && event?.metadata["eskit.encoding"] === "merge-patch") stored.patched++;
        if (action === "Updated" && event?.metadata["eskit.encoding"] === "document") stored.replaced++;
      }
    }
  }

  it("answers every query exactly as a fresh List scan filtered by the same fields, through creates, edits of indexed fields, deletes and restarts", async () => {
    const action = fc.oneof(
      { weight: 12, arbitrary: step(4) },
      { weight: 1, arbitrary: fc.constant("restart" as const) },
      { weight: 1, arbitrary: fc.constant("check" as const) },
    );
    const ada = { email: "ada@x.io", country: "FR", plan: "free", name: "Ada Lovelace", address: { city: "Paris" } };
    const bob = { email: "bob@x.io", country: "DE", plan: "pro", name: "Bob Builder", address: { city: "Berlin" } };
    // Run first, whatever the seed: every kind of stored change, an indexed field changed, removed and set to null.
    const everyKind: Array<Step | "restart" | "check"> = [
      { kind: "create", slot: 0, document: ada },
      { kind: "create", slot: 1, document: bob },
      "check",
      { kind: "set", slot: 0, field: "plan", value: "pro" },
      { kind: "set", slot: 1, field: "country", value: "FR" },
      "restart",
      { kind: "set", slot: 0, field: "country", value: null },
      { kind: "remove", slot: 1, field: "plan" },
      "check",
      { kind: "replace", slot: 0, document: { ...bob, email: "cyd@x.io", country: "US" } },
      { kind: "delete", slot: 1 },
      { kind: "create", slot: 1, document: { ...ada, plan: "team" } },
      "restart",
      { kind: "set", slot: 1, field: "email", value: "bob@x.io" },
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.array(action, { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 4 }),
        async (actions, batchSize, pageSize) => {
          const run = ++runs;
          const entityType = `acme.Customer${tag}r${run}`;
          const writer = new CustomerWriter(crud, entityType, `${tag}-r${run}`);
          const databaseUrl = await freshDatabaseUrl(postgresUrl);
          let app = await inProcess(databaseUrl, entityType, batchSize);
          try {
            for (const [i, a] of actions.entries()) {
              if (a === "restart") {
                await app.stop();
                app = await inProcess(databaseUrl, entityType, batchSize);
              } else if (a === "check") {
                await caughtUp(entityType, statusOf(app));
                await expectAnswersOfList(app.url, entityType, pageSize, `after step ${i}`);
              } else {
                await writer.apply(a);
              }
            }
            const done = await caughtUp(entityType, statusOf(app));
            const listed = await expectAnswersOfList(app.url, entityType, pageSize, "at the end");
            expect(listed.length).toBeLessThanOrEqual(4);
            expect(done.lastError, context).toBeUndefined();
            await countStored(entityType);
          } finally {
            await app.stop();
            await dropDatabase(databaseUrl);
          }
        },
      ),
      { numRuns, seed, examples: [[everyKind, 2, 1]] },
    );
    expect(stored.created, JSON.stringify(stored)).toBeGreaterThan(0);
    expect(stored.patched, JSON.stringify(stored)).toBeGreaterThan(0);
    expect(stored.replaced, JSON.stringify(stored)).toBeGreaterThan(0);
    expect(stored.deleted, JSON.stringify(stored)).toBeGreaterThan(0);
  }, 600_000);

  it("resumes after kill -9 mid-way, three times, while documents keep changing: no entry lost or applied twice", async () => {
    const entityType = `acme.Customer${tag}kill`;
    const databaseUrl = await freshDatabaseUrl(postgresUrl);
    const env = {
      EVENT_STORE_URL: eventStore.url,
      DATABASE_URL: databaseUrl,
      ENTITY_TYPE: entityType,
      BATCH_SIZE: "4",
      LOG_LEVEL: "warn",
    };
    const writer = new CustomerWriter(crud, entityType, `${tag}-kill`);
    const random = seededRandom(seed);
    let writing = true;
    // Steps over 20 documents, one call at a time, until told to stop (drawn 500 at a time, each draw seeded).
    const written = (async () => {
      for (let draw = 0; writing; draw++) {
        for (const s of fc.sample(step(20), { seed: seed + draw, numRuns: 500 })) {
          if (!writing) return;
          await writer.apply(s);
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
      }
    })();
    // Awaited below; a failed write must not count as an unhandled rejection before that.
    written.catch(() => {});
    let example = await spawnService({ entry: "examples/documents-by-field/main.ts", env, startTimeoutMs });
    const statusOfProcess = (p: SpawnedService) => async () => (await getJson<Status>(`${p.url}/status`)).body;
    try {
      let position = 0n;
      for (let kill = 0; kill < 3; kill++) {
        // It applied something since it started, and is at work when the kill comes, at a random moment.
        const deadline = Date.now() + 60_000;
        while (BigInt((await statusOfProcess(example)()).position) <= position) {
          if (Date.now() > deadline) throw new Error(`no progress after start ${kill}:\n${example.stdout()}`);
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        await new Promise((resolve) => setTimeout(resolve, random() * 300));
        example.kill("SIGKILL");
        expect(await example.exited).toBeNull();
        position = await committedPosition(databaseUrl, entityType);
        example = await spawnService({ entry: "examples/documents-by-field/main.ts", env, startTimeoutMs });
      }
      writing = false;
      await written;
      const resumedAt = position;
      const status = await caughtUp(entityType, statusOfProcess(example));
      expect(status.lastError, example.stdout()).toBeUndefined();
      const listed = await expectAnswersOfList(example.url, entityType, 50, "after the kills");
      expect(listed.length, "the workload left live documents to compare").toBeGreaterThan(0);
      expect(writer.writes, "the workload wrote through the kills").toBeGreaterThan(50);
      // The last process applied at most what followed the position the killed one had committed (a commit under
      // way when the kill came may land after it was read): it resumed there, it did not replay the log.
      expect(resumedAt).toBeGreaterThan(0n);
      expect(status.applied, context).toBeGreaterThan(0);
      expect(status.applied, context).toBeLessThanOrEqual((await entriesAfter(entityType, resumedAt)).length);
      expect(await example.stop(), example.stdout()).toBe(0);
    } finally {
      writing = false;
      await written.catch(() => {});
      example.kill("SIGKILL");
      await example.exited;
      await dropDatabase(databaseUrl);
    }
  }, 300_000);

  it("refuses a query it cannot answer exactly: an unknown parameter, a repeated one, a bad limit", async () => {
    const entityType = `acme.Customer${tag}api`;
    const databaseUrl = await freshDatabaseUrl(postgresUrl);
    const app = await inProcess(databaseUrl, entityType, 10);
    try {
      const writer = new CustomerWriter(crud, entityType, `${tag}-api`);
      await writer.apply({ kind: "create", slot: 0, document: { country: "FR", plan: "pro" } });
      await caughtUp(entityType, statusOf(app));
      for (const query of ["contry=FR", "country=FR&country=DE", "limit=0", "limit=1001", "limit=abc"]) {
        const { status, body } = await getJson<{ error: string }>(`${app.url}/customers?${query}`);
        expect({ query, status }).toEqual({ query, status: 400 });
        expect(body.error).toMatch(/unknown parameter|times|limit/);
      }
      const { status, body } = await getJson<{ customers: Array<{ id: string; version: string }> }>(
        `${app.url}/customers?country=FR&plan=pro`,
      );
      expect(status).toBe(200);
      expect(body.customers.map((c) => [c.id, c.version])).toEqual([[writer.idOf(0), "1"]]);
    } finally {
      await app.stop();
      await dropDatabase(databaseUrl);
    }
  });

  /** The position the example committed in its database. */
  async function committedPosition(databaseUrl: string, entityType: string): Promise<bigint> {
    const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
    try {
      const rows = await sql<Array<{ position: string }>>`
        select position::text as position from eskit_projections where name = ${`documents-by-field:${entityType}`}`;
      return BigInt(rows[0]?.position ?? "0");
    } finally {
      await sql.end({ timeout: 5 });
    }
  }

  /** The ids of the log entries of `entityType` after `id`. */
  async function entriesAfter(entityType: string, id: bigint): Promise<bigint[]> {
    const ids: bigint[] = [];
    for await (const page of log.pageLogs({ selector: `${entityType}.*`, size: 1000, fromId: id + 1n })) {
      ids.push(...page.entries.map((e) => e.id));
    }
    return ids;
  }
});
