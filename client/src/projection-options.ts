import type { Transport } from "@connectrpc/connect";
import type { AppLogEntry } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import { resolveConsumeOptions, type ResolvedConsumeOptions } from "./consume-options.js";
import {
  resolveProjectionReport,
  type ProjectionReportOptions,
  type ResolvedProjectionReport,
} from "./projection-report.js";

/** What a projection's handler knows besides its entries and transaction. */
export interface ProjectionContext {
  /** The projection's name. */
  readonly name: string;
  /**
   * The id of the last entry applied before this batch: the position this transaction moves from (the projection's
   * row, read in this transaction, already shows the batch's last entry: both commit together or not at all).
   */
  readonly position: bigint;
  /**
   * The name of the table to write for the read-model table `base`: `base` itself for the live projection, a fresh
   * table (`<base>__rebuild`) during a rebuild, which replays the log into fresh tables while the live ones keep
   * serving (see `rebuild()`). A handler that names its tables (and its indexes) through this function follows the
   * rebuild there unchanged. With postgres.js: `` tx`insert into ${tx(context.table("orders"))} ...` ``.
   */
  table(base: string): string;
}

/**
 * Applies a batch of entries (in log order, all matching the selector) inside `tx`, a transaction on the
 * application's database. Everything it writes through `tx` commits together with the projection's new position,
 * or not at all; so it must write through `tx` only, and have no other side effect (an email sent twice cannot be
 * rolled back: use a consumer for that).
 */
export type ProjectionHandler<Tx> = (
  entries: AppLogEntry[],
  tx: Tx,
  context: ProjectionContext,
) => unknown | Promise<unknown>;

/**
 * A structured logger, such as pino's: errors, take-overs and retries are logged through it. Field values are strings
 * and numbers (log ids as decimal strings), so any JSON logger takes them. A logger that throws stops the projection.
 */
export interface ProjectionLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** Options of `project()`, whatever the database driver; `Tx` is what the handler gets as its transaction. */
export interface ProjectionOptions<Tx> {
  /** The Event Store, e.g. `createNodeTransport({ baseUrl, protocol: "grpc" })`. */
  transport: Transport;
  /** Names the projection: its row in `eskit_projections` and its lock. 1–255 characters, no NUL. */
  name: string;
  /**
   * Which version of the handler and the tables' shape this instance runs (default `""`). An instance applies only
   * while the projection's row holds its version, and waits otherwise (`status().state` is `waiting`): a rebuild with
   * a new version switches the row to it, so that instances still running the former handler stop applying at the
   * switch-over, and instances deployed with the new one take over from there. Change it with the handler whenever
   * the read model it builds changes; 0–255 characters, no NUL.
   */
  version?: string;
  /** Which entries to apply: `""`/`"*"` = all, `"User.*"`, `"User.Created"`, `"*.Deleted"`. Default `""`. */
  selector?: string;
  /** When set, only this entity type (combined with `selector`). */
  pipelineId?: string;
  handle: ProjectionHandler<Tx>;
  /**
   * Runs in a transaction of its own each time this instance takes hold of the projection, before the first batch:
   * where to create the read model's tables (`create table if not exists`).
   */
  setup?: (tx: Tx, context: Omit<ProjectionContext, "position">) => unknown | Promise<unknown>;
  /**
   * At most this many entries per handler call and transaction (and 4 MB of them). Default 500. While catching up,
   * batches are full: they gather entries across the Event Store's messages.
   */
  batchSize?: number;
  /** Retries (with backoff) of a batch whose handler threw a permanent error before the projection stops. Default 0. */
  handlerRetries?: number;
  /**
   * Backoff between retries of a transient database error, reconnections to the Event Store and handler retries:
   * exponential with full jitter. Defaults 100 ms and 10 s.
   */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
  /** How often an instance that waits for another to let go tries the lock, in ms. Default 1000. */
  lockRetryMs?: number;
  /** How often the log head (for the lag) and the lock are checked while holding, in ms. Default 5000. */
  statusIntervalMs?: number;
  /**
   * How long the projection waits for its own statements, in ms (default 10000): taking, checking and releasing its
   * lock, reading its position, claiming its row, and each batch up to its fencing check (a pool connection, BEGIN,
   * the row lock, which PostgreSQL also bounds with `lock_timeout`). Past it the wait fails as a transient error and is
   * tried again: the lock's connection is replaced, a batch whose check comes late rolls back. postgres.js can lose a
   * statement whose connection dies at the wrong moment. Not bounded: the handler's statements, `setup`, COMMIT, and a
   * rebuild's claim and switch-over.
   */
  databaseTimeoutMs?: number;
  /** Reconnect when LogsPoll brings no message (not even a heartbeat) this long, in ms; 0 = never. Default 45000. */
  heartbeatTimeoutMs?: number;
  /** `headers` go with every call to the Event Store; `timeoutMs` is the deadline of GetHead (default 10 s). */
  callOptions?: { headers?: HeadersInit; timeoutMs?: number };
  logger?: ProjectionLogger;
  /**
   * Also report the position to the Event Store's ConsumerService (SaveOffset), as consumers save their offsets, so
   * the console's Consumers page lists the projection (as `projection:<name>`, tagged "projection") with its lag, and
   * calls it stalled once it stops moving behind the head. Best effort: committed positions only, at most one report
   * per `intervalMs` (1000), in the background (a batch never waits for it), failures logged and retried; stopping
   * waits at most 2 s for the last report. Needs a token that may write (SaveOffset). Default on; `false` = off.
   */
  reportPosition?: boolean | ProjectionReportOptions;
  /** Aborting it stops the projection as `stop()` does. */
  signal?: AbortSignal;
}

/** {@link ProjectionOptions} with defaults filled in and checked once, plus what the log follower needs. */
export interface ResolvedProjectionOptions {
  /** The name of the projection's row and lock (a rebuild's own: see projection-rebuild-options.ts). */
  readonly name: string;
  readonly version: string;
  readonly batchSize: number;
  readonly lockRetryMs: number;
  readonly statusIntervalMs: number;
  readonly databaseTimeoutMs: number;
  readonly logger: ProjectionLogger;
  /** Where the position is reported among the Event Store's consumers (projection-report.ts). */
  readonly report: ResolvedProjectionReport;
  /** The options the shared log follower (follow-log.ts) reads. */
  readonly follow: ResolvedConsumeOptions;
}

const maxNameLength = 255;
const silent: ProjectionLogger = { info: () => {}, warn: () => {}, error: () => {} };

/** Fills in the defaults and rejects impossible settings before anything connects. */
export function resolveProjectionOptions(options: ProjectionOptions<unknown>): ResolvedProjectionOptions {
  const { name } = options;
  if (typeof name !== "string" || name.length === 0 || name.length > maxNameLength || name.includes("\u0000")) {
    throw new RangeError(
      `a projection's name must be 1–${maxNameLength} characters without NUL, not ${JSON.stringify(name)}`,
    );
  }
  if (typeof options.handle !== "function") throw new TypeError("project() needs a handle function");
  const version = options.version ?? "";
  if (typeof version !== "string" || version.length > maxNameLength || version.includes("\u0000")) {
    throw new RangeError(
      `a projection's version must be 0–${maxNameLength} characters without NUL, not ${JSON.stringify(version)}`,
    );
  }
  return {
    name,
    version,
    batchSize: check("batchSize", options.batchSize ?? 500, 1, 100_000),
    lockRetryMs: check("lockRetryMs", options.lockRetryMs ?? 1000, 1, 3_600_000),
    statusIntervalMs: check("statusIntervalMs", options.statusIntervalMs ?? 5000, 1, 3_600_000),
    databaseTimeoutMs: check("databaseTimeoutMs", options.databaseTimeoutMs ?? 10_000, 1, 3_600_000),
    logger: options.logger ?? silent,
    report: resolveProjectionReport(name, options.reportPosition),
    follow: resolveConsumeOptions({
      consumerId: name,
      selector: options.selector,
      pipelineId: options.pipelineId,
      handlerRetries: options.handlerRetries,
      reconnect: options.reconnect,
      heartbeatTimeoutMs: options.heartbeatTimeoutMs,
      callOptions: options.callOptions,
    }),
  };
}

function check(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, not ${value}`);
  }
  return value;
}
