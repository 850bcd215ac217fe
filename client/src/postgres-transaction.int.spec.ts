import postgres, { type Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dropDatabase, freshDatabaseUrl } from "@eskit/test-kit/event-store.js";
import { isDeadConnectionError, isTransientDatabaseError } from "./database-error.js";
import { transactionOn } from "./postgres-transaction.js";

// Terminating a backend from another session: PostgreSQL itself.
const postgresUrl = process.env["DATABASE_URL"];
const skipReason = postgresUrl ? "" : " (skipped: needs PostgreSQL, set DATABASE_URL)";

async function retried<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt === 5 || !isTransientDatabaseError(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

describe.skipIf(!postgresUrl)(`a transaction through transactionOn${skipReason}`, () => {
  let url: string;
  let sql: Sql;
  let admin: Sql;

  beforeAll(async () => {
    url = await freshDatabaseUrl(postgresUrl);
    sql = postgres(url, { max: 2, onnotice: () => {} });
    admin = postgres(url, { max: 1, onnotice: () => {} });
    await sql`create table t (id int primary key)`;
  });
  afterAll(async () => {
    await sql?.end({ timeout: 5 });
    await admin?.end({ timeout: 5 });
    if (url !== undefined) await dropDatabase(url);
  });

  // With plain sql.begin, postgres.js 3.4.9 sends ROLLBACK on the dead connection and the process dies of an uncaught
  // TypeError from a timer (vitest reports it as an error of this file).
  it("rejects with the connection's error when its backend is terminated, and the process and pool carry on", async () => {
    for (let round = 0; round < 10; round++) {
      let pid = 0;
      // Caught at once: the transaction rejects as soon as its connection closes, which may come before the answer
      // to pg_terminate_backend below; a rejection still without a handler then is an unhandled rejection.
      const failure = transactionOn(sql, async (tx) => {
        await tx`insert into t values (${round})`;
        pid = (await tx<Array<{ pid: number }>>`select pg_backend_pid() as pid`)[0]!.pid;
        await tx`select pg_sleep(5)`;
      }).catch((e: unknown) => e);
      while (pid === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      // Both orders, each every other round: the answer first (no wait), or the connection closed first (a wait of up
      // to 2 s for the backend to exit before answering, PostgreSQL 14+).
      await admin`select pg_terminate_backend(${pid}, ${round % 2 === 0 ? 0 : 2000})`;
      const error = await failure;
      expect(isDeadConnectionError(error)).toBe(true);
      // A transaction sent right then may still fail with the dead session's error; the pool then reconnects.
      expect(await retried(() => transactionOn(sql, async (tx) => (await tx`select 1 as one`)[0]?.["one"]))).toBe(1);
    }
    // Nothing of the terminated transactions was committed.
    expect(await sql`select id from t`).toHaveLength(0);
  });

  it("rolls back and rejects with the callback's error when the connection is alive", async () => {
    await transactionOn(sql, async (tx) => void (await tx`insert into t values (100)`));
    const error = await transactionOn(sql, async (tx) => {
      await tx`insert into t values (101)`;
      await tx`insert into t values (100)`;
    }).catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe("23505");
    expect((await sql`select id from t order by id`).map((row) => row["id"])).toEqual([100]);
  });
});
