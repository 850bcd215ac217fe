import { create } from "@bufbuild/protobuf";
import { createClient, type Transport } from "@connectrpc/connect";
import { ConsumerService, SaveOffsetRequestSchema } from "@eskit/gen/eskit/eventstore/v1/consumer_pb.js";
import type { BackoffOptions } from "./backoff.js";
import { createOffsetSaver, type OffsetSaver } from "./offset-saver.js";
import { projectionConsumerId } from "./projection-consumer-id.js";
import type { ProjectionLogger } from "./projection-options.js";
import type { StatusTracker } from "./projection-status.js";
import { isTransient } from "./transient-error.js";

/** Where and how often `project()` reports its position to the Event Store (`reportPosition`). */
export interface ProjectionReportOptions {
  /**
   * The consumer id it reports under: 1–255 characters, no NUL. Default `projection:<name>`, which the console tags
   * as a projection.
   */
  consumerId?: string;
  /** At most one report this often, in ms; a committed position is reported within this long. Default 1000. */
  intervalMs?: number;
}

/** `reportPosition` checked once: `consumerId` undefined = no reports, for the reason in `skipped` if it was on. */
export interface ResolvedProjectionReport {
  readonly consumerId: string | undefined;
  readonly intervalMs: number;
  readonly skipped?: string;
}

/** How long letting go of the projection waits, at most, for its last report: a stop is never held up longer. */
export const finalReportTimeoutMs = 2000;

const maxConsumerIdLength = 255;

/** Fills in `reportPosition`'s defaults; an explicit consumer id or interval that cannot work throws a RangeError. */
export function resolveProjectionReport(
  name: string,
  option: boolean | ProjectionReportOptions | undefined,
): ResolvedProjectionReport {
  const given = typeof option === "object" ? option : {};
  const intervalMs = given.intervalMs ?? 1000;
  if (!Number.isInteger(intervalMs) || intervalMs < 1 || intervalMs > 3_600_000) {
    throw new RangeError(`reportPosition.intervalMs must be an integer from 1 to 3600000, not ${intervalMs}`);
  }
  if (option === false) return { consumerId: undefined, intervalMs };
  const { consumerId } = given;
  if (consumerId !== undefined) {
    if (typeof consumerId !== "string" || !isConsumerId(consumerId)) {
      throw new RangeError(
        `reportPosition.consumerId must be 1–${maxConsumerIdLength} characters without NUL, not ${JSON.stringify(consumerId)}`,
      );
    }
    return { consumerId, intervalMs };
  }
  const id = projectionConsumerId(name);
  if (isConsumerId(id)) return { consumerId: id, intervalMs };
  return {
    consumerId: undefined,
    intervalMs,
    skipped: `its consumer id ${JSON.stringify(id.slice(0, 40) + "…")} would be longer than ${maxConsumerIdLength} characters: set reportPosition.consumerId`,
  };
}

/** What reporting needs from the projection's settings. */
export interface ReportContext {
  readonly name: string;
  readonly transport: Transport;
  readonly headers: HeadersInit | undefined;
  readonly timeoutMs: number;
  readonly backoff: BackoffOptions;
  readonly logger: ProjectionLogger;
}

/** A status tracker that also reports the position to the Event Store, and what to call before letting go. */
export interface PositionReport {
  readonly status: StatusTracker;
  /**
   * Call while still holding the projection, before releasing its lock: reports the last committed position if it was
   * not yet, waiting at most {@link finalReportTimeoutMs}, and reports nothing more until the next hold. Never rejects.
   */
  letGo(): Promise<void>;
}

/**
 * Wraps `tracker` so that the position this instance commits while it holds the projection is also saved as a
 * consumer offset (`ConsumerService.SaveOffset`), so the console's Consumers page lists the projection with its lag,
 * and calls it stalled when it stops moving behind the head (failed, stopped, or stuck on its database).
 *
 * Best effort, beside the batches: a commit only tells the offset saver (offset-saver.ts, as consumers save) and
 * returns; saves run in the background, one at a time, at most one per `intervalMs`, failures retried after a
 * backoff and logged once per outage; a refusal (a read-only token: `permission_denied`) is logged and ends reporting
 * for the run. Only committed positions are reported, so the offset is never ahead of the projection's table. A hold
 * that is lost drops what was not reported yet: the instance that took over may be further already.
 */
export function reportPosition(
  tracker: StatusTracker,
  report: ResolvedProjectionReport,
  context: ReportContext,
): PositionReport {
  const { consumerId } = report;
  const { name, logger } = context;
  if (consumerId === undefined) {
    if (report.skipped !== undefined) {
      safely(() => logger.warn({ projection: name }, `projection: not reported to the Event Store: ${report.skipped}`));
    }
    return { status: tracker, letGo: async () => {} };
  }
  const consumers = createClient(ConsumerService, context.transport);
  const fields = { projection: name, consumerId };
  let refused = false;
  let failing = false;
  let current: { saver: OffsetSaver; gate: { open: boolean } } | undefined;

  const send = async (offset: bigint, signal: AbortSignal): Promise<void> => {
    try {
      const request = create(SaveOffsetRequestSchema, { consumerId, offset });
      await consumers.saveOffset(request, { headers: context.headers, timeoutMs: context.timeoutMs, signal });
    } catch (error) {
      if (!signal.aborted && isTransient(error) && !failing) {
        failing = true;
        const err = messageOf(error);
        safely(() => logger.warn({ ...fields, err }, "projection: could not report its position to the Event Store"));
      }
      throw error;
    }
    if (failing) {
      failing = false;
      safely(() => logger.info(fields, "projection: reporting its position to the Event Store again"));
    }
  };
  const refuse = (error: unknown) => {
    refused = true;
    const err = messageOf(error);
    safely(() =>
      logger.warn({ ...fields, err }, "projection: the Event Store refused its position report; it reports no more"),
    );
  };
  const begin = () => {
    if (refused) return;
    const gate = { open: true };
    const saver = createOffsetSaver({
      save: (offset, signal) => (gate.open && !refused ? send(offset, signal) : Promise.resolve()),
      // Below any position: the position this instance starts holding at is reported too, so a projection shows up
      // (with its lag) before it applies anything.
      baseline: -1n,
      initialSaved: 0n,
      everyEntries: Number.MAX_SAFE_INTEGER,
      intervalMs: report.intervalMs,
      backoff: context.backoff,
      onSaved: () => {},
      onPermanentFailure: refuse,
    });
    current = { saver, gate };
    saver.handled(tracker.snapshot().position, 0);
  };
  const drop = () => {
    if (current === undefined) return;
    current.gate.open = false;
    void current.saver.close(0).catch(() => {});
    current = undefined;
  };

  const status: StatusTracker = {
    ...tracker,
    state(state) {
      tracker.state(state);
      if (state === "running") {
        drop();
        begin();
      } else if (state === "waiting") {
        drop();
      }
    },
    applied(position, entries) {
      tracker.applied(position, entries);
      current?.saver.handled(position, entries);
    },
  };
  return {
    status,
    async letGo() {
      const held = current;
      current = undefined;
      if (held === undefined) return;
      try {
        await held.saver.close(finalReportTimeoutMs);
      } catch (error) {
        if (refused) return;
        if (!isTransient(error)) return refuse(error);
        const err = messageOf(error);
        safely(() =>
          logger.warn({ ...fields, err }, "projection: could not report its last position to the Event Store"),
        );
      }
    },
  };
}

/** Reporting is a view: a logger that throws must not turn it into a failure. */
function safely(log: () => void): void {
  try {
    log();
  } catch {
    // Nothing to do: the projection goes on.
  }
}

function isConsumerId(id: string): boolean {
  return id.length > 0 && id.length <= maxConsumerIdLength && !id.includes("\u0000");
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
