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
import { cancelledBy, copyIn } from "./postgres-cancel.js";
import { noDelaySockets } from "./postgres-socket.js";
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
   *
   * When `signal` aborts (the call's deadline passed, its client went away) the statement is cancelled: taken out of
   * the queue if it waits for a connection, else cancelled in PostgreSQL (a cancel request; for a statement pipelined
   * behind another, once it starts), so a write stalled there rolls back instead of committing later. It then fails with SQLSTATE 57014. PGlite runs in this process and
   * cannot be interrupted; its statements run to their end.
   */
  query<T extends Record<string, unknown>>(
    text: string,
    params: readonly unknown[],
    signal?: AbortSignal,
    options?: QueryOptions,
  ): Promise<T[]>;
  /**
   * {@link query}, with each row handed to `each` as it arrives instead of collected: what a caller keeps of a row need
   * not wait in memory with every other row of the result until the last one is in. Resolves once all are handed.
   */
  queryEach<T extends Record<string, unknown>>(
    text: string,
    params: readonly unknown[],
    each: (row: T) => void,
    signal?: AbortSignal,
    options?: QueryOptions,
  ): Promise<void>;
  /**
   * PostgreSQL only: runs `work` in one transaction on a connection of its own, and commits once it resolves (rolls
   * back when it throws). `signal` is looked at once, before anything is sent: a transaction once begun runs to its
   * end. (A cancel request reaches whatever statement runs when it arrives; one that met a COPY left postgres.js 3.4
   * with its connection in a broken state, and a caller whose deadline passed is answered at it anyway.)
   */
  readonly transaction?: <T>(work: (tx: Transaction) => Promise<T>, signal?: AbortSignal) => Promise<T>;
  /**
   * Calls `onNotify` with the payload of every NOTIFY of `channel`, and `onReconnect` when the listening connection
   * was re-made.
   */
  listen(channel: string, onNotify: (payload: string) => void, onReconnect: () => void): Promise<void>;
  /**
   * Applies the migrations (idempotent, safe to race). {@link connectDatabase} leaves this to its caller, which may
   * retry it while the database is not reachable yet; {@link openDatabase} does it.
   */
  migrate(): Promise<void>;
  /** Whether the database answers a trivial query. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** The statements of one {@link Database.transaction}. */
export interface Transaction {
  /** As {@link Database.query}, prepared once per connection. */
  query<T extends Record<string, unknown>>(text: string, params: readonly unknown[]): Promise<T[]>;
  /**
   * Runs `copy ... from stdin`, sending the rows `data` resolves to once PostgreSQL is ready for them; resolves once
   * it has taken them all. When `data` resolves to undefined the COPY is failed instead, which fails the transaction.
   */
  copyIn(text: string, data: Promise<Uint8Array | undefined>): Promise<void>;
  /** Sends COMMIT now, behind the statements sent so far (the transaction then commits no more at its end). */
  commit(): Promise<void>;
}

export interface QueryOptions {
  /**
   * Plan the statement for these parameter values on every call instead of preparing it once. For statements whose
   * best plan depends on a value: a prepared statement may settle on a generic plan, made without the value, and for
   * a log page of one entity type that plan walked the whole log by id and filtered (its guess: every type is
   * common), where the page of a rare type needs the (entity_type, log_id) index.
   */
  readonly planPerCall?: boolean;
}

const migrationsFolder = fileURLToPath(new URL("../../migrations", import.meta.url));
// Serialises start-up migrations when several processes share one PostgreSQL (a session-level advisory lock).
const migrationLockKey = 7245308062;

export interface OpenOptions {
  readonly databaseUrl?: string;
  readonly dataDir: string;
  readonly poolSize: number;
  /** How long opening one PostgreSQL connection may take before it counts as failed, in ms (default 5000). */
  readonly connectTimeoutMs?: number;
}

/** Opens the database the configuration names and applies the migrations (idempotent, safe to race). */
export async function openDatabase(options: OpenOptions): Promise<Database> {
  const database = await connectDatabase(options);
  try {
    await database.migrate();
  } catch (error) {
    await database.close();
    throw error;
  }
  return database;
}

/**
 * The database the configuration names, not yet migrated. For PostgreSQL nothing is dialled yet (the pool connects
 * on first use), so a service can listen, and say it is not ready, while the database is still unreachable.
 */
export async function connectDatabase(options: OpenOptions): Promise<Database> {
  return options.databaseUrl === undefined
    ? openPglite(options.dataDir)
    : openPostgres(options.databaseUrl, options.poolSize, options.connectTimeoutMs ?? 5000);
}

/**
 * The pause before the pool dials again after a failed connection, in seconds. postgres.js's own grows 3^n and keeps
 * growing through an outage (to 10–20 s), so the first calls after the database came back still waited for it; a
 * pause of at most 0.5 s (with jitter, so a pool does not dial in lock step) serves again within a second.
 */
export function reconnectDelaySeconds(failures: number): number {
  return Math.min(0.5, 0.025 * 2 ** Math.min(failures, 10)) * (0.5 + Math.random() / 2);
}

async function openPostgres(url: string, poolSize: number, connectTimeoutMs: number): Promise<Database> {
  const client = postgres(url, {
    max: poolSize,
    onnotice: () => {},
    // A dial that does not complete (a black-holed network) fails after this, so calls fail as `unavailable`.
    connect_timeout: connectTimeoutMs / 1000,
    backoff: reconnectDelaySeconds,
    // postgres.js takes a socket factory, which its type declarations leave out.
    ...({ socket: noDelaySockets() } as object),
  });
  const drizzleDb = drizzlePostgres(client, { schema });
  return {
    db: drizzleDb as unknown as Db,
    kind: "postgres",
    // Two batches in flight: one commits while the next gathers requests; more only makes batches smaller (measured).
    parallelism: Math.max(1, Math.min(2, poolSize - 2)),
    async listen(channel, onNotify, onReconnect) {
      await client.listen(channel, onNotify, onReconnect);
    },
    async query<T extends Record<string, unknown>>(
      text: string,
      params: readonly unknown[],
      signal?: AbortSignal,
      options?: QueryOptions,
    ) {
      const pending = client.unsafe(text, params as never[], { prepare: options?.planPerCall !== true });
      return (await cancelledBy(pending, signal)) as unknown as T[];
    },
    async queryEach<T extends Record<string, unknown>>(
      text: string,
      params: readonly unknown[],
      each: (row: T) => void,
      signal?: AbortSignal,
      options?: QueryOptions,
    ) {
      const pending = client.unsafe(text, params as never[], { prepare: options?.planPerCall !== true });
      await cancelledBy(pending.forEach(each as (row: unknown) => void), signal);
    },
    async transaction(work, signal) {
      signal?.throwIfAborted();
      const connection = await client.reserve();
      let done = false;
      try {
        // Sent with the first statement of `work`, in the same round trip; its failure fails that statement too.
        connection.unsafe("begin").catch(() => {});
        let committed: Promise<unknown> | undefined;
        const result = await work({
          query: async (text, params) => (await connection.unsafe(text, params as never[], { prepare: true })) as never,
          copyIn: (text, data) => copyIn(connection, text, data),
          commit: async () => {
            committed ??= connection.unsafe("commit");
            await committed;
          },
        });
        await (committed ?? connection.unsafe("commit"));
        done = true;
        return result;
      } finally {
        // Not awaited: on a connection that went silent it would never end; the pool sends what comes next after it.
        if (!done) connection.unsafe("rollback").catch(() => {});
        connection.release();
      }
    },
    async migrate() {
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
    },
    // A probe that gets no answer leaves the queue after its time, so probes of a silent database do not pile up.
    ping: () => pingWith(() => cancelledBy(client`select 1`, AbortSignal.timeout(pingTimeoutMs))),
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
    async queryEach<T extends Record<string, unknown>>(
      text: string,
      params: readonly unknown[],
      each: (row: T) => void,
    ) {
      for (const row of (await client.query<T>(text, params as unknown[])).rows) each(row);
    },
    migrate: () => migratePglite(db, { migrationsFolder }),
    ping: () => pingWith(() => client.query("select 1")),
    async close() {
      if (!client.closed) await client.close();
      await unlock();
    },
  };
}

/** How long a ping waits for its answer (`/healthz` waits 2 s). */
const pingTimeoutMs = 2000;

async function pingWith(query: () => PromiseLike<unknown>): Promise<boolean> {
  try {
    await query();
    return true;
  } catch {
    return false;
  }
}
