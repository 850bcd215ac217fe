import { Code, ConnectError } from "@connectrpc/connect";
import type { Database } from "../storage/database.js";

/**
 * v1's `Healtz`: `{ message: "OK" }` while the database answers, else `unavailable` (v1 has no status field, so an
 * unhealthy store can only say so with an error). The same check as `/healthz` and grpc.health.v1.
 */
export async function healtz(database: Database): Promise<{ message: string }> {
  if (!(await database.ping())) throw new ConnectError("the database is unavailable", Code.Unavailable);
  return { message: "OK" };
}
