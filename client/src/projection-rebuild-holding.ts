import { create } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import type { AppLogEntry } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import { GetHeadRequestSchema, LogsRequestSchema } from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
import { backoffDelay, sleep } from "./backoff.js";
import { isTransientDatabaseError } from "./database-error.js";
import { LostHoldError } from "./projection-errors.js";
import { applyWhileHolding } from "./projection-holding.js";
import type { Hold } from "./projection-lock.js";
import type { ResolvedRebuild } from "./projection-rebuild-options.js";
import type { Run } from "./projection-run.js";
import { switchOver, type Switched } from "./projection-switch.js";
import { isTransient } from "./transient-error.js";

/** What the rebuild's holding reports to the rebuild (projection-rebuild.ts). */
export interface RebuildEvents {
  /** The replay caught up: the switch-over begins. */
  switching(): void;
  /** The switch-over committed. */
  switched(switched: Switched | "gone"): void;
}

/** Log entries the Logs RPC returns at most per call. */
const maxPage = 1000;

/**
 * One holding of a rebuild: replays the log into the fresh tables as the live projection applies it (same batches,
 * same fencing), checking every `statusIntervalMs` whether it has caught up, that is whether at most `switchWithin`
 * entries it has not applied are in the log. Then it stops replaying (the batch in flight commits first) and switches
 * over (projection-switch.ts) while it still holds the rebuild, retrying transient errors (a lost connection, a lock
 * that readers hold too long, the Event Store away) with backoff. Resolves to `"finished"` once switched over;
 * otherwise as the live projection's holding does (stopped, or the hold lost).
 */
export async function replayThenSwitch<Tx>(
  run: Run<Tx>,
  r: ResolvedRebuild,
  events: RebuildEvents,
  hold: Hold,
  stop: AbortSignal,
): Promise<"finished" | "outdated" | void> {
  const { o, status } = run;
  // The previous holding left it `running`: the check below must wait for this one to claim its row and set up.
  status.state("starting");
  const replay = new AbortController();
  const end = () => replay.abort();
  stop.addEventListener("abort", end, { once: true });
  if (stop.aborted) end();
  let caughtUp = false;
  const checking = (async () => {
    while (await sleep(o.statusIntervalMs, replay.signal)) {
      if (status.snapshot().state !== "running") continue;
      try {
        if (await nearTheEnd(run, status.snapshot().position, r.switchWithin)) {
          caughtUp = true;
          replay.abort();
        }
      } catch {
        // The Event Store is away: the replay reconnects by itself, and the next round checks again.
      }
    }
  })();
  let outcome: "outdated" | void;
  try {
    outcome = await applyWhileHolding(run, hold, replay.signal);
  } finally {
    replay.abort();
    await checking;
    stop.removeEventListener("abort", end);
  }
  if (outcome === "outdated" || !caughtUp || stop.aborted || hold.lost.aborted) return outcome;

  events.switching();
  o.logger.info(
    { projection: o.name, live: r.live, position: String(status.snapshot().position) },
    "projection: rebuild caught up with the log; switching over",
  );
  const round = {
    live: r.live,
    rebuild: o.name,
    version: o.version,
    db: run.db,
    hold,
    handle: run.options.handle,
    context: run.context,
    batchSize: o.batchSize,
    tables: r.tables,
    lockTimeoutMs: r.switchLockTimeoutMs,
    remainder: (after: bigint) => remainder(run, after),
  };
  for (let attempt = 0; ; attempt++) {
    try {
      const switched = await switchOver(round);
      events.switched(switched);
      return "finished";
    } catch (error) {
      if (error instanceof LostHoldError) {
        o.logger.warn({ projection: o.name, err: error.message }, "projection: lost its hold");
        return;
      }
      const transient = isTransientDatabaseError(error) || (error instanceof ConnectError && isTransient(error));
      if (!transient || stop.aborted) throw error;
      const delayMs = backoffDelay(attempt, o.follow.backoff);
      const message = error instanceof Error ? error.message : String(error);
      status.error({ message, entryId: 0n, at: new Date(), transient: true });
      o.logger.warn({ projection: o.name, err: message, delayMs }, "projection: retrying the switch-over");
      if (!(await sleep(delayMs, stop))) return;
    }
  }
}

/** Whether at most `within` (< 1000) entries that the selector matches are in the log after `position`. */
async function nearTheEnd<Tx>(run: Run<Tx>, position: bigint, within: number): Promise<boolean> {
  const size = within + 1;
  const page = await run.eventStore.logs(
    create(LogsRequestSchema, {
      fromId: position + 1n,
      size,
      selector: run.o.follow.selector,
      pipelineId: run.o.follow.pipelineId,
    }),
    { headers: run.o.follow.headers, timeoutMs: run.o.follow.unaryTimeoutMs },
  );
  return page.entries.length < size;
}

/** The entries the selector matches after `after`, up to the head as of the call, page by page. */
async function* remainder<Tx>(run: Run<Tx>, after: bigint): AsyncGenerator<AppLogEntry[]> {
  const callOptions = { headers: run.o.follow.headers, timeoutMs: run.o.follow.unaryTimeoutMs };
  const { headId } = await run.eventStore.getHead(create(GetHeadRequestSchema, {}), callOptions);
  for (let from = after + 1n; from <= headId;) {
    const page = await run.eventStore.logs(
      create(LogsRequestSchema, {
        fromId: from,
        size: maxPage,
        selector: run.o.follow.selector,
        pipelineId: run.o.follow.pipelineId,
      }),
      callOptions,
    );
    const entries = page.entries.filter((entry) => entry.id <= headId);
    if (entries.length > 0) yield entries;
    if (page.nextFromId <= from) return;
    from = page.nextFromId;
  }
}
