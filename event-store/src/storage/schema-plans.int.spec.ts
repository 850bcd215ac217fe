import { randomUUID } from "node:crypto";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestStorage, type TestStorage } from "../../test/harness.js";
import { validEvents, validRequest } from "../../test/support/valid-events.js";
import { appendBatch, checkedWriteSql } from "../store/append-batch.js";
import { AppendBatcher } from "../store/append-batcher.js";
import { readEventsSql, readStateSql } from "../store/read-events.js";
import { bytesQuery, readLogBounded } from "../store/read-log-bytes.js";
import { rangeQuery, readLogRange } from "../store/read-log.js";
import { type Database, openDatabase } from "./database.js";

/**
 * Every index of `events` is there for a query (schema.ts says which), and each query below must use its index: a
 * plan that scans the table instead would make that query's cost grow with the whole log. Together with
 * list-originators.int.spec.ts (the partial index of first events) this covers every index of the table; the last
 * test checks that there are no others.
 */
describe("the events table's indexes, each held to the query it serves", () => {
  let storage: TestStorage;
  let database: Database;

  beforeAll(async () => {
    storage = await createTestStorage();
    database = await openDatabase({ ...storage.config, poolSize: 2 });
    const batcher = new AppendBatcher(database, { parallelism: 1, maxBatchEvents: 5000, onCommit: () => {} });
    // Many types and actions, so that one type or one action is a small part of the log.
    for (let round = 0; round < 4; round++) {
      await batcher.append(
        validEvents(
          Array.from({ length: 2000 }, (_, i) => ({
            originatorId: `o-${i}`,
            version: BigInt(round + 1),
            eventType: `Type${i % 40}.action${(i + round) % 25}`,
            payload: "{}",
            metadata: {},
          })),
        ),
      );
    }
    await database.query("analyze events", []);
  });
  afterAll(async () => {
    await database.close();
    await storage.remove();
  });

  async function plan(text: string, params: unknown[]): Promise<string> {
    const [row] = await database.query<Record<string, unknown>>(`explain (format json) ${text}`, params);
    return JSON.stringify(row);
  }

  it("a log page walks the primary key from its first id", async () => {
    for (const shown of [
      await plan(rangeQuery({}), ["4000", 1000]),
      await plan(bytesQuery({}), ["4000", 1000, 1 << 20]),
    ]) {
      expect(shown).toContain("events_pkey");
      expect(shown).not.toContain("Seq Scan");
    }
  });

  it("the append statement costs the same planned for its values as generic, so PostgreSQL keeps one plan", async () => {
    const { databaseUrl } = storage.config;
    if (databaseUrl === undefined) return; // PGlite keeps no plans between calls: nothing to keep.
    // On one connection of its own, run the statement as the store does (prepared), more than the five times after
    // which PostgreSQL compares the generic plan with the ones it made per call.
    const client = postgres(databaseUrl, { max: 1, onnotice: () => {} });
    const single: Database = {
      ...database,
      query: async (text, params) => (await client.unsafe(text, params as never[], { prepare: true })) as never,
    };
    try {
      for (let i = 0; i < 12; i++) {
        const [outcome] = await appendBatch(single, [validRequest(`plan-${i}`, 1n, 1, [randomUUID()])]);
        expect(outcome).toMatchObject({ written: true });
      }
      const [stats] = await client<{ generic_plans: string; custom_plans: string }[]>`
        select generic_plans::text, custom_plans::text from pg_prepared_statements
        where statement like '%with input as%' and statement not like '%pg_prepared_statements%'`;
      expect(Number(stats!.custom_plans)).toBeLessThanOrEqual(5);
      expect(Number(stats!.generic_plans)).toBeGreaterThanOrEqual(7);
    } finally {
      await client.end();
    }
  });

  it("asks for pages of one entity type or action to be planned per call, and prepares the plain page once", async () => {
    const asked: Array<boolean | undefined> = [];
    const recording: Database = {
      ...database,
      query: (text, params, signal, options) => {
        asked.push(options?.planPerCall);
        return database.query(text, params, signal, options);
      },
      queryEach: (text, params, each, signal, options) => {
        asked.push(options?.planPerCall);
        return database.queryEach(text, params, each, signal, options);
      },
    };
    await readLogRange(recording, 1n, undefined, {}, 10);
    await readLogRange(recording, 1n, undefined, { entityType: "Type7" }, 10);
    await readLogBounded(recording, 1n, 100n, { action: "action3" }, 10, 1 << 20);
    await readLogBounded(recording, 1n, 100n, {}, 10, 1 << 20);
    expect(asked.map((perCall) => perCall === true)).toEqual([false, true, true, false]);
  });

  // Pages of one entity type or action are planned per call (read-log.ts), so these plans, made for the values, are
  // the ones that run; prepared once, PostgreSQL's generic plan walked the primary key and filtered instead.
  it("a page of one entity type walks (entity_type, log_id)", async () => {
    expect(await plan(rangeQuery({ entityType: "Type7" }), ["1", 1000, "Type7"])).toContain(
      "events_entity_type_log_idx",
    );
    expect(await plan(bytesQuery({ entityType: "Type7" }), ["1", 1000, 1 << 20, "Type7"])).toContain(
      "events_entity_type_log_idx",
    );
  });

  it("a page of one action walks (action, log_id)", async () => {
    expect(await plan(rangeQuery({ action: "action3" }), ["1", 1000, "action3"])).toContain("events_action_log_idx");
    expect(await plan(bytesQuery({ action: "action3" }), ["1", 1000, 1 << 20, "action3"])).toContain(
      "events_action_log_idx",
    );
  });

  it("an originator's events (GetEvents) walk (originator_id, version)", async () => {
    const shown = await plan(readEventsSql, ["o-17", "1", "0"]);
    expect(shown).toContain("events_originator_version_key");
    expect(shown).not.toContain("Seq Scan");
  });

  it("a state read (GetEvents from the latest snapshot) walks the snapshots' key, then (originator_id, version)", async () => {
    const shown = await plan(readStateSql, ["o-17", "0", "0"]);
    expect(shown).toContain("events_originator_version_key");
    expect(shown).toContain("snapshots_originator_id_version_pk");
    expect(shown).not.toContain("Seq Scan");
  });

  it("an append finds current versions by (originator_id, version) and retried events by event_id", async () => {
    const input = JSON.stringify([]);
    const versions = JSON.stringify([{ originator_id: "o-3", version: "4" }]);
    const ids = JSON.stringify(["00000000-0000-4000-8000-000000000000"]);
    const shown = await plan(checkedWriteSql, [input, versions, ids, true]);
    expect(shown).toContain("events_originator_version_key");
    expect(shown).toContain("events_event_id_key");
    expect(shown).not.toMatch(/"Seq Scan"[^}]*"Relation Name":"events"/u);
  });

  it("the log head is the primary key's last entry", async () => {
    const shown = await plan("select max(log_id) from events", []);
    expect(shown).toContain("events_pkey");
    expect(shown).not.toContain("Seq Scan");
  });

  it("has no index beyond those", async () => {
    const rows = await database.query<{ indexname: string }>(
      "select indexname from pg_indexes where tablename = 'events' order by indexname",
      [],
    );
    expect(rows.map((r) => r.indexname)).toEqual([
      "events_action_log_idx",
      "events_entity_type_first_idx",
      "events_entity_type_log_idx",
      "events_event_id_key",
      "events_originator_version_key",
      "events_pkey",
    ]);
  });
});
