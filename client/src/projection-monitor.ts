import { create } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import { EventStoreService, GetHeadRequestSchema } from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
import type { Sql } from "postgres";
import { sleep } from "./backoff.js";
import { answeredWithin } from "./database-deadline.js";
import { LostHoldError } from "./projection-errors.js";
import type { Hold } from "./projection-lock.js";
import type { ResolvedProjectionOptions } from "./projection-options.js";
import type { StatusTracker } from "./projection-status.js";
import { readProjectionPosition } from "./projection-table.js";

/** The hold the projection applies under now, if any, and how to give it up. */
export interface Holding {
  hold: Hold | undefined;
  lose: (error: LostHoldError) => void;
}

/**
 * Every `statusIntervalMs` until `stop`: reads the log head (for the lag); while holding, checks that the lock's
 * session still holds the lock (a connection replaced after a network cut holds nothing, and the batches would find
 * out only when the next entry comes); while waiting, reads the position the holder committed. Failures are left for
 * the next round: the status is a view, and the batches themselves fence and retry.
 */
export async function watchProjection(
  run: {
    readonly eventStore: Client<typeof EventStoreService>;
    readonly status: StatusTracker;
    readonly db: { readonly sql: Sql<any> };
    readonly holding: Holding;
  },
  o: ResolvedProjectionOptions,
  stop: AbortSignal,
): Promise<void> {
  const callOptions = { headers: o.follow.headers, timeoutMs: o.follow.unaryTimeoutMs, signal: stop };
  while (!stop.aborted) {
    try {
      const { headId } = await run.eventStore.getHead(create(GetHeadRequestSchema, {}), callOptions);
      run.status.head(headId);
    } catch {
      // The Event Store is away: the log stream reconnects on its own, and the head is refreshed next time.
    }
    const { hold, lose } = run.holding;
    try {
      if (hold !== undefined && !hold.lost.aborted) {
        if (!(await hold.check())) lose(new LostHoldError("the lock's session no longer holds the lock"));
      } else if (run.status.snapshot().state === "waiting") {
        const reading = readProjectionPosition(run.db.sql, o.name);
        run.status.position(await answeredWithin(reading, o.databaseTimeoutMs, "reading the position"));
      }
    } catch {
      // The database is away: batches retry, and a dead lock connection signals `lost` by itself.
    }
    await sleep(o.statusIntervalMs, stop);
  }
}
