import { and, desc, eq, lte, max, sql } from "drizzle-orm";
import { NotFoundError, PreconditionError } from "../domain/errors.js";
import type { Db } from "../storage/database.js";
import { events, snapshots } from "../storage/schema.js";

export interface Snapshot {
  readonly version: bigint;
  readonly payload: string;
}

/**
 * Stores the state of an originator as of `version`, replacing one saved for the same version. The version must
 * exist: a snapshot ahead of the history would let a reader see a state nobody appended.
 */
export async function saveSnapshot(db: Db, originatorId: string, version: bigint, payload: string): Promise<void> {
  const [row] = await db
    .select({ current: max(events.version) })
    .from(events)
    .where(eq(events.originatorId, originatorId));
  const current = row?.current ?? 0n;
  if (version > current) {
    throw new PreconditionError(
      `originator "${originatorId}" is at version ${current}: a snapshot of version ${version} would be ahead of its history`,
    );
  }
  await db
    .insert(snapshots)
    .values({ originatorId, version, payload })
    .onConflictDoUpdate({
      target: [snapshots.originatorId, snapshots.version],
      set: { payload, createdAt: sql`now()` },
    });
}

/** The latest snapshot at or below `maxVersion` (0 = the latest of all); NotFoundError when there is none. */
export async function getSnapshot(db: Db, originatorId: string, maxVersion: bigint): Promise<Snapshot> {
  const conditions = [eq(snapshots.originatorId, originatorId)];
  if (maxVersion > 0n) conditions.push(lte(snapshots.version, maxVersion));
  const [row] = await db
    .select({ version: snapshots.version, payload: snapshots.payload })
    .from(snapshots)
    .where(and(...conditions))
    .orderBy(desc(snapshots.version))
    .limit(1);
  if (row === undefined) {
    throw new NotFoundError(
      `originator "${originatorId}" has no snapshot${maxVersion > 0n ? ` at or below version ${maxVersion}` : ""}`,
    );
  }
  return row;
}
