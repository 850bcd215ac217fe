import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { lockDataDir } from "./data-dir-lock.js";
import * as schema from "./schema.js";

/** The Drizzle database, typed against the dialect core so that both drivers fit. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

/** An open database: PostgreSQL through postgres.js, or PGlite embedded in this process. */
export interface Database {
  readonly db: Db;
  readonly kind: "postgres" | "pglite";
  /** How many transactions may usefully run at once (PGlite runs one at a time). */
  readonly parallelism: number;
  /**
   * Runs one statement of fixed text, prepared once per connection, and returns its rows. Appends and event reads
   * use this: Drizzle's query builder costs about 70 µs per inserted row to build, which caps appends far
   * below what PostgreSQL can take. Select int8 columns as `::text` (the drivers disagree on int8).
   */
  query<T extends Record<string, unknown>>(text: string, params: readonly unknown[]): Promise<T[]>;
  /** Calls `onNotify` on every NOTIFY of `channel`, and `onReconnect` when the listening connection was re-made. */
  listen(channel: string, onNotify: () => void, onReconnect: () => void): Promise<void>;
  /** Whether the database answers a trivial query. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

const migrationsFolder = fileURLToPath(new URL("../../migrations", import.meta.url));
// Serialises start-up migrations when several processes share one PostgreSQL (a session-level advisory lock).
const migrationLockKey = 7245308062;

export interface OpenOptions {
  readonly databaseUrl?: string;
  readonly dataDir: string;
  readonly poolSize: number;
}

/** Opens the database the configuration names and applies the migrations (idempotent, safe to race). */
export async function openDatabase(options: OpenOptions): Promise<Database> {
  return options.databaseUrl === undefined
    ? openPglite(options.dataDir)
    : openPostgres(options.databaseUrl, options.poolSize);
}

async function openPostgres(url: string, poolSize: number): Promise<Database> {
  const client = postgres(url, {
    max: poolSize,
    onnotice: () => {},
    connect_timeout: 10,
  });
  const drizzleDb = drizzlePostgres(client, { schema });
  const lock = await client.reserve();
  try {
    await lock`select pg_advisory_lock(${migrationLockKey})`;
    try {
      await migratePostgres(drizzleDb, { migrationsFolder });
    } finally {
      // A session lock outlives the query: release it before the connection goes back to the pool.
      await lock`select pg_advisory_unlock(${migrationLockKey})`.catch(() => {});
    }
  } finally {
    lock.release();
  }
  return {
    db: drizzleDb as unknown as Db,
    kind: "postgres",
    // Two batches in flight: one commits while the next gathers requests; more only makes batches smaller (measured).
    parallelism: Math.max(1, Math.min(2, poolSize - 2)),
    async listen(channel, onNotify, onReconnect) {
      await client.listen(channel, onNotify, onReconnect);
    },
    async query<T extends Record<string, unknown>>(text: string, params: readonly unknown[]) {
      return (await client.unsafe(text, params as never[], { prepare: true })) as unknown as T[];
    },
    ping: () => pingWith(() => client`select 1`),
    close: () => client.end({ timeout: 5 }),
  };
}

async function openPglite(dataDir: string): Promise<Database> {
  await mkdir(dataDir, { recursive: true });
  const unlock = await lockDataDir(dataDir);
  let client: PGlite;
  try {
    client = await PGlite.create(dataDir);
  } catch (error) {
    await unlock();
    throw error;
  }
  const db = drizzlePglite(client, { schema });
  await migratePglite(db, { migrationsFolder });
  return {
    db: db as unknown as Db,
    kind: "pglite",
    parallelism: 1,
    async listen(channel, onNotify) {
      await client.listen(channel, onNotify);
    },
    async query<T extends Record<string, unknown>>(text: string, params: readonly unknown[]) {
      return (await client.query<T>(text, params as unknown[])).rows;
    },
    ping: () => pingWith(() => client.query("select 1")),
    async close() {
      if (!client.closed) await client.close();
      await unlock();
    },
  };
}

async function pingWith(query: () => PromiseLike<unknown>): Promise<boolean> {
  try {
    await query();
    return true;
  } catch {
    return false;
  }
}
