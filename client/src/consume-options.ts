import { Code, ConnectError } from "@connectrpc/connect";
import type { BackoffOptions } from "./backoff.js";

/** Where a consumer starts reading the Application Log. */
export type ConsumeStart = "saved" | "beginning" | "end";

/** Options of {@link LogConsumer.consume} and {@link LogConsumer.consumeBatches}. */
export interface ConsumeOptions {
  /** Names the consumer, whose offset the Event Store keeps; 1–255 characters, no NUL. */
  consumerId: string;
  /** Which entries to deliver: `""`/`"*"` = all, `"User.*"`, `"User.Created"`, `"*.Deleted"`. Default `""`. */
  selector?: string;
  /** When set, only this entity type (combined with `selector`). */
  pipelineId?: string;
  /**
   * `"saved"` (default): after the saved offset, or from the beginning when the consumer never saved one.
   * `"beginning"`: from the first entry, whatever was saved. `"end"`: only entries appended after the consumer
   * started (after `GetHead`'s `head_id`), whatever was saved. Either way the offset is saved as entries are handled.
   */
  start?: ConsumeStart;
  /** Save the offset once this many entries were handled since the last save. Default 100. */
  saveEveryEntries?: number;
  /** Save a handled entry's offset at most this long after it was handled, in ms (0 = right away). Default 1000. */
  saveIntervalMs?: number;
  /** Retries (with backoff) of a throwing handler before the consumer stops with its error. Default 0. */
  handlerRetries?: number;
  /** Backoff between reconnections and handler retries: exponential with full jitter. Defaults 100 ms and 10 s. */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
  /** Called before each wait to reconnect (or to retry a start-up call), with the error that caused it. */
  onReconnect?: (error: unknown, delayMs: number, attempt: number) => void;
  /** Called after each successful offset save, e.g. to set a gauge. */
  onOffsetSaved?: (offset: bigint) => void;
  /**
   * Reconnect (from the last handled entry) when the LogsPoll stream brings no message for this long while the
   * consumer waits for one, in ms: the Event Store sends an empty message every ESKIT_LOGS_POLL_HEARTBEAT_MS (15 s)
   * when the log is quiet, so silence this long means a dead connection, not a quiet log. Time spent in handlers
   * does not count. Default 45000 (three heartbeats); 0 = never. Keep it above the server's heartbeat interval.
   */
  heartbeatTimeoutMs?: number;
  /** How long stopping may spend saving the final offset (retrying an unreachable store), in ms. Default 5000. */
  finalSaveTimeoutMs?: number;
  /**
   * `headers` go with every call (e.g. `Authorization`). `timeoutMs` is the deadline of each unary call (GetOffset,
   * SaveOffset, GetHead; default 10 s), not of the LogsPoll stream, which never ends by design.
   */
  callOptions?: { headers?: HeadersInit; timeoutMs?: number };
}

/** {@link ConsumeOptions} with every default filled in, checked once before the consumer starts. */
export interface ResolvedConsumeOptions {
  readonly consumerId: string;
  readonly selector: string;
  readonly pipelineId: string;
  readonly start: ConsumeStart;
  readonly saveEveryEntries: number;
  readonly saveIntervalMs: number;
  readonly handlerRetries: number;
  readonly backoff: BackoffOptions;
  readonly finalSaveTimeoutMs: number;
  readonly heartbeatTimeoutMs: number;
  readonly headers: HeadersInit | undefined;
  readonly unaryTimeoutMs: number;
  readonly onReconnect: (error: unknown, delayMs: number, attempt: number) => void;
  readonly onOffsetSaved: (offset: bigint) => void;
}

const maxConsumerIdLength = 255;
const starts: readonly ConsumeStart[] = ["saved", "beginning", "end"];

/**
 * Fills in the defaults and rejects impossible settings up front, so a typo fails when the consumer starts rather
 * than as a strange save rhythm hours later. A bad consumer id is `invalid_argument`, as the Event Store would
 * answer; bad local settings are `RangeError`s.
 */
export function resolveConsumeOptions(options: ConsumeOptions): ResolvedConsumeOptions {
  const { consumerId } = options;
  if (typeof consumerId !== "string" || consumerId.length === 0 || consumerId.length > maxConsumerIdLength) {
    throw new ConnectError(`consumer_id must be 1–${maxConsumerIdLength} characters long`, Code.InvalidArgument);
  }
  if (consumerId.includes("\u0000")) {
    throw new ConnectError("consumer_id contains a NUL character", Code.InvalidArgument);
  }
  const start = options.start ?? "saved";
  if (!starts.includes(start)) {
    throw new RangeError(`start must be one of ${starts.join(", ")}, not ${JSON.stringify(start)}`);
  }
  const maxDelayMs = options.reconnect?.maxDelayMs ?? 10_000;
  // Only a cap given: the default first delay must not exceed it.
  const initialDelayMs = options.reconnect?.initialDelayMs ?? Math.min(100, maxDelayMs);
  const resolved: ResolvedConsumeOptions = {
    consumerId,
    selector: options.selector ?? "",
    pipelineId: options.pipelineId ?? "",
    start,
    saveEveryEntries: check("saveEveryEntries", options.saveEveryEntries ?? 100, 1, true),
    saveIntervalMs: check("saveIntervalMs", options.saveIntervalMs ?? 1000, 0, false),
    handlerRetries: check("handlerRetries", options.handlerRetries ?? 0, 0, true),
    backoff: {
      initialDelayMs: check("reconnect.initialDelayMs", initialDelayMs, 0, false),
      maxDelayMs: check("reconnect.maxDelayMs", maxDelayMs, initialDelayMs, false),
    },
    finalSaveTimeoutMs: check("finalSaveTimeoutMs", options.finalSaveTimeoutMs ?? 5000, 0, false),
    heartbeatTimeoutMs: check("heartbeatTimeoutMs", options.heartbeatTimeoutMs ?? 45_000, 0, false),
    headers: options.callOptions?.headers,
    unaryTimeoutMs: check("callOptions.timeoutMs", options.callOptions?.timeoutMs ?? 10_000, 1, false),
    onReconnect: options.onReconnect ?? (() => {}),
    onOffsetSaved: options.onOffsetSaved ?? (() => {}),
  };
  return resolved;
}

function check(name: string, value: number, min: number, integer: boolean): number {
  if (!Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    throw new RangeError(`${name} must be ${integer ? "an integer" : "a finite number"} ≥ ${min}, not ${value}`);
  }
  return value;
}
