/**
 * A batch failed with a permanent error (after `handlerRetries` retries): most often the handler threw, or one of its
 * statements broke a constraint. The projection stopped with nothing of that batch committed, its position on the entry
 * before `fromId`; it resumes at `fromId` once restarted, so fix the handler (or the data it trips on) first. `cause`
 * is the original error.
 */
export class ProjectionHandlerError extends Error {
  override readonly name = "ProjectionHandlerError";

  constructor(
    /** The projection's name. */
    readonly projection: string,
    /** The first entry of the failed batch: where the projection will resume. */
    readonly fromId: bigint,
    /** The last entry of the failed batch. */
    readonly toId: bigint,
    /** The projection's position: the last entry applied, before the failed batch. */
    readonly position: bigint,
    cause: unknown,
  ) {
    super(
      `projection ${JSON.stringify(projection)} stopped at log id ${position}: the batch of entries ${fromId}–${toId} ` +
        `failed: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
}

/**
 * This instance no longer holds the projection (its lock connection closed, or the position moved under it): it
 * must apply nothing more and go back to waiting for the lock. Never seen by users.
 */
export class LostHoldError extends Error {
  override readonly name = "LostHoldError";
}
