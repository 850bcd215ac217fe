import { and, asc, eq, gte, lte, type SQL } from "drizzle-orm";
import type { StoredEvent } from "../domain/event.js";
import type { Db } from "../storage/database.js";
import { eventColumns, toStoredEvent } from "../storage/event-rows.js";
import { events } from "../storage/schema.js";

/** One originator's events in version order, `fromVersion`..`toVersion` inclusive (0 = unbounded). */
export async function readEvents(db: Db, originatorId: string, fromVersion: bigint, toVersion: bigint): Promise<StoredEvent[]> {
  const conditions: SQL[] = [eq(events.originatorId, originatorId)];
  if (fromVersion > 0n) conditions.push(gte(events.version, fromVersion));
  if (toVersion > 0n) conditions.push(lte(events.version, toVersion));
  const rows = await db
    .select(eventColumns)
    .from(events)
    .where(and(...conditions))
    .orderBy(asc(events.version));
  return rows.map(toStoredEvent);
}
