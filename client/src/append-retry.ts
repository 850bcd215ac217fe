import { Code, ConnectError, type CallOptions } from "@connectrpc/connect";
import { backoffDelay, sleep, type BackoffOptions } from "./backoff.js";
import type { NewEvent } from "./new-event.js";

/** Options of {@link EventStoreClient.appendEvents}: a call's options, plus retries. */
export interface AppendOptions extends CallOptions {
  /**
   * How many times to send the append again after it failed with `unavailable`, `deadline_exceeded` or `canceled`
   * (not by the caller's `signal`) (each attempt
   * gets the whole `timeoutMs`). Default 0. Safe: the events keep the same `eventId`s on every attempt, so one that
   * was stored though its answer was lost is answered with its original log ids instead of being stored again.
   */
  retries?: number;
  /** The wait between attempts: exponential with full jitter. Defaults 100 ms and 2 s. */
  backoff?: BackoffOptions;
}

const defaultBackoff: BackoffOptions = { initialDelayMs: 100, maxDelayMs: 2000 };

/**
 * Codes after which an append may have been stored or not: resending the same events settles it. `canceled` is one
 * when the caller did not cancel: Node's HTTP/2 client reports its own deadline so when the connection went silent.
 */
const ambiguous: ReadonlySet<Code> = new Set([Code.Unavailable, Code.DeadlineExceeded, Code.Canceled]);

/**
 * Sends `events` with `send`, retrying as {@link AppendOptions} say. Every event without an `eventId` gets one before
 * the first attempt (a UUID made here, not by the server), so every attempt is the same request: the store answers a
 * retry of a stored append with its original log ids. A caller's abort (its `signal`) ends the retries.
 */
export async function appendWithRetries(
  send: (events: readonly NewEvent[], options: CallOptions) => Promise<bigint[]>,
  events: readonly NewEvent[],
  options: AppendOptions = {},
): Promise<bigint[]> {
  const { retries = 0, backoff = defaultBackoff, ...call } = options;
  if (!Number.isInteger(retries) || retries < 0) {
    throw new ConnectError(`retries must be an integer >= 0, got ${retries}`, Code.InvalidArgument);
  }
  if (retries === 0) return send(events, call);
  const identified = events.map((e) => (e.eventId ? e : { ...e, eventId: newEventId() }));
  for (let attempt = 0; ; attempt++) {
    try {
      return await send(identified, call);
    } catch (error) {
      const code = ConnectError.from(error).code;
      if (attempt >= retries || !ambiguous.has(code) || call.signal?.aborted) throw error;
      if (!(await sleep(backoffDelay(attempt, backoff), call.signal))) throw error;
    }
  }
}

/**
 * A random (version 4) UUID. `crypto.randomUUID` exists only in secure browser contexts (https, localhost);
 * `getRandomValues` everywhere, Node included.
 */
export function newEventId(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
