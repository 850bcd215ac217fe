import { timestampDate } from "@bufbuild/protobuf/wkt";
import { projectionOfConsumer, type Consumer } from "@eskit/client";

/** Where a consumer stands: at the head, behind but saving, or behind and silent past the threshold. */
export type ConsumerState = "up to date" | "catching up" | "stalled";

/** One consumer as the Consumers page lists it. */
export interface ConsumerRow {
  readonly id: string;
  /**
   * The projection's name when the id is a projection's (`projection:<name>`: `project()` reports its position as
   * the offset of that consumer), else undefined.
   */
  readonly projection: string | undefined;
  /** The last log id it handled. */
  readonly offset: bigint;
  /** How many log ids lie after its offset up to the head (ids have gaps, so at most that many entries). */
  readonly lag: bigint;
  /** Its last save, or undefined when the store sent no time. */
  readonly updatedAt: Date | undefined;
  readonly state: ConsumerState;
}

/** What is still to come for a consumer at `offset`, as the CLI counts it: 0 at or past the head. */
export function lagOf(offset: bigint, head: bigint): bigint {
  return head > offset ? head - offset : 0n;
}

/**
 * Whether a consumer at `lag` whose last save was `updatedAt` is stalled at `now`: behind the head and not saved for
 * longer than `stalledAfterMs`. A consumer at the head is never stalled, however long ago it saved: an idle log
 * gives it nothing to save.
 */
export function isStalled(lag: bigint, updatedAt: Date | undefined, now: number, stalledAfterMs: number): boolean {
  if (lag === 0n) return false;
  return updatedAt === undefined || now - updatedAt.getTime() > stalledAfterMs;
}

/** Every consumer with its lag behind `head` and its state at `now`, the furthest behind first (then by id). */
export function consumerRows(
  consumers: ReadonlyArray<Pick<Consumer, "consumerId" | "offset" | "updatedAt">>,
  head: bigint,
  now: number,
  stalledAfterMs: number,
): ConsumerRow[] {
  return consumers
    .map((consumer): ConsumerRow => {
      const lag = lagOf(consumer.offset, head);
      const updatedAt = consumer.updatedAt === undefined ? undefined : timestampDate(consumer.updatedAt);
      const state: ConsumerState =
        lag === 0n ? "up to date" : isStalled(lag, updatedAt, now, stalledAfterMs) ? "stalled" : "catching up";
      const projection = projectionOfConsumer(consumer.consumerId);
      return { id: consumer.consumerId, projection, offset: consumer.offset, lag, updatedAt, state };
    })
    .sort((a, b) => (a.lag !== b.lag ? (a.lag > b.lag ? -1 : 1) : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
