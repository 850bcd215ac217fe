import { createHash } from "node:crypto";
import postgres, { type Options, type Sql } from "postgres";
import { sleep } from "./backoff.js";
import { answeredWithin } from "./database-deadline.js";

/**
 * The advisory lock key of a projection: 64 bits of SHA-256 over its name, so two names share a key with a
 * probability of about n²/2⁶⁵ (a shared key would only make two projections take turns, never corrupt either).
 */
export function holderLockKey(name: string): bigint {
  const digest = createHash("sha256").update(`eskit_projections\u0000${name}`).digest();
  return digest.readBigInt64BE(0);
}

/**
 * How `pg_locks` shows a session lock on a bigint key: its high and low 32 bits as `classid` and `objid` (both oids,
 * so unsigned), with `objsubid` 1.
 */
export function lockIdentity(key: bigint): { readonly classid: string; readonly objid: string } {
  const unsigned = BigInt.asUintN(64, key);
  return { classid: String(unsigned >> 32n), objid: String(unsigned & 0xffffffffn) };
}

/** This process holds the projection, through the session of backend `pid`. */
export interface Hold {
  readonly key: bigint;
  /** The backend that holds the lock: a transaction checks in `pg_locks` that it still does (see projection-table.ts). */
  readonly pid: number;
  /** Aborted when the lock's connection closes: PostgreSQL released the lock, another instance may hold it now. */
  readonly lost: AbortSignal;
  /** Whether the lock's session still holds the lock (false once its connection was replaced). */
  check(): Promise<boolean>;
  /** Unlocks (best effort: a dead connection released it already). */
  release(): Promise<void>;
}

/** One projection's holder lock, on a connection of its own. */
export interface HolderLock {
  /**
   * Tries the lock every `retryMs` until this process holds it; `onWaiting` is told when another holds it. Resolves
   * to undefined when `stop` aborts first; rejects with the database's error (the caller decides what to retry).
   */
  acquire(stop: AbortSignal, onWaiting: () => void): Promise<Hold | undefined>;
  /** Ends the connection, which releases the lock if it is still held. */
  close(): Promise<void>;
}

/**
 * Opens the holder lock of projection `name`: a session advisory lock (`pg_try_advisory_lock`) on one connection,
 * opened from the options of the application's `database` as postgres.js opens its own LISTEN connection. A session
 * lock is released by PostgreSQL the moment its connection closes, however the holder died (kill -9 closes the
 * socket), so another instance takes over within one `retryMs`.
 *
 * The lock has a connection of its own, not one reserved from the application's pool: a reserved connection whose
 * backend is terminated crashes postgres.js 3.4.9 on its next query and poisons the pool when it is released
 * (porsager/postgres#1208, #1199). The connection never idles out (`idle_timeout` and `max_lifetime` off), since
 * closing it would hand the projection over. It needs a direct connection or session pooling: behind a pooler in
 * transaction mode a session lock means nothing.
 */
export function openHolderLock(database: Sql<any>, name: string, retryMs: number, timeoutMs: number): HolderLock {
  const key = holderLockKey(name);
  let closes = 0;
  let current: AbortController | undefined;
  const options = database.options;
  // Parsed options pass through postgres() unchanged (it recognises them by `shared`), as for its LISTEN connection.
  const open = (): Sql<{}> => {
    const opened: Sql<{}> = postgres({
      ...options,
      max: 1,
      idle_timeout: null,
      max_lifetime: null,
      fetch_types: false,
      onnotice: () => {},
      onclose: () => {
        // A connection replaced after a statement got no answer closes late: the lock went with it already.
        if (opened !== sql) return;
        closes++;
        current?.abort(new Error(`the lock connection of projection ${JSON.stringify(name)} closed`));
      },
      connection: { ...options.connection, application_name: `eskit projection ${name}`.slice(0, 63) },
    } as unknown as Options<{}>);
    return opened;
  };
  let sql = open();
  /**
   * A statement on the lock's connection, answered within `timeoutMs`; a connection that leaves one unanswered is
   * dropped (which releases the lock if its session held it) and replaced, and the hold on it counts as lost.
   */
  const answered = <T>(work: (sql: Sql<{}>) => Promise<T>, what: string): Promise<T> => {
    const on = sql;
    return answeredWithin(work(on), timeoutMs, `projection ${JSON.stringify(name)}: ${what}`, () => {
      if (on !== sql) return;
      sql = open();
      closes++;
      current?.abort(
        new Error(`the lock connection of projection ${JSON.stringify(name)} left a statement unanswered`),
      );
      void on.end({ timeout: 0 }).catch(() => {});
    });
  };
  const held = async (): Promise<boolean> => {
    const { classid, objid } = lockIdentity(key);
    const [row] = await answered(
      (sql) => sql<Array<{ held: boolean }>>`
        select exists (
          select 1 from pg_locks
          where locktype = 'advisory' and classid::int8 = ${classid}::int8 and objid::int8 = ${objid}::int8
            and objsubid = 1 and pid = pg_backend_pid() and granted
        ) as held`,
      "checking its lock",
    );
    return row?.held === true;
  };

  return {
    async acquire(stop, onWaiting) {
      while (!stop.aborted) {
        const closesBefore = closes;
        const [row] = await answered(
          (sql) => sql<Array<{ locked: boolean; pid: number }>>`
            select pg_try_advisory_lock(${String(key)}::int8) as locked, pg_backend_pid() as pid`,
          "taking its lock",
        );
        if (row?.locked === true) {
          const lost = new AbortController();
          current = lost;
          // The connection closed between the answer and now: the lock is gone already.
          if (closes !== closesBefore) lost.abort(new Error("the lock connection closed while locking"));
          return {
            key,
            pid: row.pid,
            lost: lost.signal,
            check: held,
            release: async () => {
              if (current === lost) current = undefined;
              if (lost.signal.aborted) return;
              // All of this connection's locks (it has no other): a lock taken twice is released in full.
              await answered((sql) => sql`select pg_advisory_unlock_all()`, "releasing its lock").catch(() => {});
            },
          };
        }
        onWaiting();
        await sleep(retryMs, stop);
      }
      return undefined;
    },
    async close() {
      current = undefined;
      await sql.end({ timeout: 5 });
    },
  };
}
