import type { Sql, TransactionSql } from "postgres";
import { isDeadConnectionError } from "./database-error.js";

/**
 * `sql.begin(work)` that survives the death of its connection. When the connection of a transaction dies, postgres.js
 * 3.4.9 rejects `begin` at once (it watches the connection), but the callback's own rejection then makes it send
 * ROLLBACK on the dead connection, and a write to a closed connection throws from a timer: an uncaught exception that
 * ends the process (porsager/postgres#1208, #1154; reproduced here with `pg_terminate_backend`). So a callback that
 * fails because its connection died is made never to settle: `begin` has rejected already with the connection's
 * error, nothing is sent on the dead connection, and the server rolled the transaction back when the session ended.
 */
export function transactionOn<T>(sql: Sql<any>, work: (tx: TransactionSql<any>) => Promise<T>): Promise<T> {
  return sql.begin((tx) => unsettledOnDeadConnection(work(tx))) as Promise<T>;
}

/**
 * `work`, except that it never settles when it fails because its connection died (see {@link transactionOn}): for a
 * transaction callback handed to postgres.js by another layer (Drizzle's `db.transaction`).
 */
export function unsettledOnDeadConnection<T>(work: Promise<T>): Promise<T> {
  return work.catch((error: unknown) =>
    isDeadConnectionError(error) ? new Promise<never>(() => {}) : Promise.reject(error),
  );
}
