/**
 * A fresh PostgreSQL database with the projections table, for the suites that drive a projection's batches and locks
 * by hand (no Event Store): its pool, the ProjectionDatabase over it, and the holder locks a suite opens, closed
 * before the pool ends and the database is dropped.
 */
import postgres, { type ISql, type Sql, type TransactionSql } from "postgres";
import { afterAll, beforeAll } from "vitest";
import { dropDatabase, freshDatabaseUrl } from "@eskit/test-kit/event-store.js";
import { transactionOn } from "../../src/postgres-transaction.js";
import type { ProjectionDatabase } from "../../src/projection-batch.js";
import type { HolderLock } from "../../src/projection-lock.js";
import { createProjectionsTable } from "../../src/projection-table.js";

export interface ProjectionDatabaseFixture {
  /** The suite's pool (set once the suite has started). */
  readonly sql: Sql;
  readonly db: ProjectionDatabase<TransactionSql>;
  /** Locks the suite opens: closed at its end. */
  readonly locks: HolderLock[];
}

/** Registers the suite's set-up and teardown on `serverUrl` with a pool of `poolSize` connections. */
export function useProjectionDatabase(serverUrl: string | undefined, poolSize: number): ProjectionDatabaseFixture {
  let url: string | undefined;
  let sql: Sql | undefined;
  const locks: HolderLock[] = [];
  const pool = (): Sql => {
    if (sql === undefined) throw new Error("the suite has not started: no pool yet");
    return sql;
  };
  beforeAll(async () => {
    url = await freshDatabaseUrl(serverUrl);
    sql = postgres(url, { max: poolSize, onnotice: () => {} });
    await createProjectionsTable(sql);
  });
  afterAll(async () => {
    await Promise.all(locks.map((lock) => lock.close()));
    await sql?.end({ timeout: 5 });
    if (url !== undefined) await dropDatabase(url);
  });
  return {
    get sql() {
      return pool();
    },
    db: {
      get sql() {
        return pool();
      },
      transaction: <T>(work: (s: ISql, tx: TransactionSql) => Promise<T>) =>
        transactionOn(pool(), (tx) => work(tx, tx)),
    },
    locks,
  };
}
