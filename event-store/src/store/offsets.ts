import { asc, eq, sql } from "drizzle-orm";
import { NotFoundError } from "../domain/errors.js";
import type { Db } from "../storage/database.js";
import { consumerOffsets } from "../storage/schema.js";

export interface ConsumerOffset {
  readonly consumerId: string;
  readonly offset: bigint;
  readonly updatedAt: Date;
}

/** Creates or replaces a consumer's offset. */
export async function saveOffset(db: Db, consumerId: string, offset: bigint): Promise<void> {
  await db
    .insert(consumerOffsets)
    .values({ consumerId, offset })
    .onConflictDoUpdate({ target: consumerOffsets.consumerId, set: { offset, updatedAt: sql`now()` } });
}

/** A consumer's offset; NotFoundError when it never saved one. */
export async function getOffset(db: Db, consumerId: string): Promise<ConsumerOffset> {
  const [row] = await db.select().from(consumerOffsets).where(eq(consumerOffsets.consumerId, consumerId));
  if (row === undefined) throw new NotFoundError(`consumer "${consumerId}" has no saved offset`);
  return row;
}

/** Every consumer, by id. */
export async function listConsumers(db: Db): Promise<ConsumerOffset[]> {
  return db.select().from(consumerOffsets).orderBy(asc(consumerOffsets.consumerId));
}
