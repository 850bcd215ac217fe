import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTestStorage, type TestStorage } from "../../test/harness.js";
import { ConcurrencyError } from "../domain/errors.js";
import { validRequest } from "../../test/support/valid-events.js";
import { AppendBatcher } from "../store/append-batcher.js";
import { readLogRange } from "../store/read-log.js";
import { type Database, openDatabase } from "./database.js";

const migrationsFolder = fileURLToPath(new URL("../../migrations", import.meta.url));

/** A connection to the test's storage that runs plain SQL, before the store opens it. */
interface RawSql {
  exec(text: string): Promise<void>;
  rows<T>(text: string): Promise<T[]>;
  /** Applies the first `count` migrations (a copy of the folder whose journal stops there). */
  migrateTo(count: number): Promise<void>;
  close(): Promise<void>;
}

async function rawSql(storage: TestStorage): Promise<RawSql> {
  const folder = await mkdtemp(join(tmpdir(), "eskit-migrations-"));
  await cp(migrationsFolder, folder, { recursive: true });
  const journalPath = join(folder, "meta", "_journal.json");
  const journal = JSON.parse(await readFile(journalPath, "utf8")) as { entries: unknown[] };
  const cut = async (count: number) => {
    await writeFile(journalPath, JSON.stringify({ ...journal, entries: journal.entries.slice(0, count) }));
  };
  const { databaseUrl, dataDir } = storage.config;
  if (databaseUrl !== undefined) {
    const client = postgres(databaseUrl, { max: 1, onnotice: () => {} });
    return {
      exec: async (text) => void (await client.unsafe(text)),
      rows: async <T>(text: string) => (await client.unsafe(text)) as unknown as T[],
      migrateTo: async (count) => {
        await cut(count);
        await migratePostgres(drizzlePostgres(client), { migrationsFolder: folder });
      },
      close: async () => {
        await client.end();
        await rm(folder, { recursive: true, force: true });
      },
    };
  }
  const client = await PGlite.create(dataDir);
  return {
    exec: async (text) => void (await client.exec(text)),
    rows: async <T>(text: string) => (await client.query<T>(text)).rows,
    migrateTo: async (count) => {
      await cut(count);
      await migratePglite(drizzlePglite(client), { migrationsFolder: folder });
    },
    close: async () => {
      await client.close();
      await rm(folder, { recursive: true, force: true });
    },
  };
}

// What a database written by an Event Store before migration 0003 holds: events and app_log entries whose ids are
// not the events' seqs (app_log is filled in another order, and ids 3 and 6 were drawn by appends that rolled back).
const oldRows = `
  insert into events (event_id, originator_id, version, entity_type, event_type, payload, metadata,
                      occurred_on_seconds, occurred_on_nanos) values
    ('00000000-0000-4000-8000-000000000001', 'a', 1, 'Order', 'Order.created', '{"n": 1.50}', '{}', 100, 1),
    ('00000000-0000-4000-8000-000000000002', 'b', 1, 'Order', 'Order.created', '{}', '{"k": "v"}', 101, 2),
    ('00000000-0000-4000-8000-000000000003', 'a', 2, 'Order', 'Order.shipped', '[1, 2]', '{}', 102, 999999999),
    ('00000000-0000-4000-8000-000000000004', 'c', 1, 'User', 'User.created', '"x"', '{}', 103, 0);
  insert into app_log (event_seq, entity_type, action) values (2, 'Order', 'created'), (1, 'Order', 'created');
  select nextval('app_log_id_seq');
  insert into app_log (event_seq, entity_type, action) values (3, 'Order', 'shipped'), (4, 'User', 'created');
  select nextval('app_log_id_seq');
`;

describe("migration 0003: the events table becomes the log", () => {
  let storage: TestStorage;
  let raw: RawSql;
  let database: Database | undefined;

  beforeEach(async () => {
    storage = await createTestStorage();
    raw = await rawSql(storage);
    await raw.migrateTo(3);
  });
  afterEach(async () => {
    await database?.close();
    database = undefined;
    await raw.close().catch(() => {});
    await storage.remove();
  });

  it("carries every event over under the log id it had, and the next append continues after the last id drawn", async () => {
    await raw.exec(oldRows);
    await raw.close();
    database = await openDatabase({ ...storage.config, poolSize: 2 });

    const entries = await readLogRange(database, 1n, undefined, {}, 100);
    expect(entries.map((e) => [e.id, e.event.eventId.slice(-1), e.event.originatorId, e.event.version])).toEqual([
      [1n, "2", "b", 1n],
      [2n, "1", "a", 1n],
      [4n, "3", "a", 2n],
      [5n, "4", "c", 1n],
    ]);
    // Byte for byte: payload text, metadata, and occurred_on to the nanosecond.
    const [b, a, shipped] = entries;
    expect(a!.event.payload).toBe('{"n": 1.50}');
    expect(b!.event.metadata).toEqual({ k: "v" });
    expect(shipped!.event.occurredOn).toEqual({ seconds: 102n, nanos: 999999999 });
    expect(shipped!.event.action).toBe("shipped");

    const batcher = new AppendBatcher(database, { parallelism: 1, maxBatchEvents: 100, onCommit: () => {} });
    const outcome = await batcher.append(validRequest("a", 3n));
    // app_log's sequence had drawn 6 (a rolled-back append): the next id is 7, never one a reader may have passed.
    expect(outcome).toEqual([7n]);
    // The version check still sees the carried-over history.
    await expect(batcher.append(validRequest("a", 3n))).rejects.toBeInstanceOf(ConcurrencyError);
    const tables = await database.query<{ name: string }>(
      "select table_name as name from information_schema.tables where table_schema = 'public' order by 1",
      [],
    );
    expect(tables.map((t) => t.name)).toEqual(["consumer_offsets", "events", "snapshots"]);
  });

  it("carries an empty database over, whose first append gets log id 1", async () => {
    await raw.close();
    database = await openDatabase({ ...storage.config, poolSize: 2 });
    const batcher = new AppendBatcher(database, { parallelism: 1, maxBatchEvents: 100, onCommit: () => {} });
    expect(await batcher.append(validRequest("a", 1n))).toEqual([1n]);
  });

  it("refuses, and changes nothing, when an event has no log entry", async () => {
    await raw.exec(oldRows);
    await raw.exec(`insert into events (event_id, originator_id, version, entity_type, event_type, payload, metadata,
        occurred_on_seconds, occurred_on_nanos)
      values ('00000000-0000-4000-8000-000000000005', 'd', 1, 'User', 'User.created', '{}', '{}', 104, 0)`);
    await expect(raw.migrateTo(4)).rejects.toThrow();
    const counts = await raw.rows<{ events: number; log: number }>(
      "select (select count(*)::int from events) as events, (select count(*)::int from app_log) as log",
    );
    expect(counts).toEqual([{ events: 5, log: 4 }]);
  });
});
