import type { Sql } from "postgres";

/** The highest log id so far (0 when empty). */
export async function logHead(sql: Sql): Promise<bigint> {
  const [row] = await sql<{ head: string | null }[]>`select max(log_id)::text as head from events`;
  return BigInt(row?.head ?? "0");
}

/**
 * Average log entries per committing transaction since `afterId`, counted from the rows' `xmin` (the id of the
 * transaction that wrote each row): it shows how much the store's group commit merged requests.
 */
export async function eventsPerCommit(sql: Sql, afterId: bigint): Promise<number> {
  const [row] = await sql<{ rows: number; commits: number }[]>`
    select count(*)::int as rows, count(distinct xmin::text)::int as commits from events where log_id > ${afterId.toString()}`;
  return row === undefined || row.commits === 0 ? NaN : row.rows / row.commits;
}
