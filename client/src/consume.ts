import { createClient, type CallOptions, type Client, type Transport } from "@connectrpc/connect";
import type { AppLogEntry } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import { EventStoreService } from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
import { withLeanLogsPoll } from "./lean-logs-poll.js";
import { createConsumerClient, type ConsumerClient } from "./consumer-client.js";
import { resolveConsumeOptions, type ConsumeOptions, type ResolvedConsumeOptions } from "./consume-options.js";
import { startPosition, untilAnswered } from "./consume-start.js";
import { followLog, type HandlerUnit } from "./follow-log.js";
import { createOffsetSaver } from "./offset-saver.js";

export type { ConsumeOptions, ConsumeStart } from "./consume-options.js";

/** Stops a running consumer. */
export interface ConsumeControl {
  /** Aborting it cancels the LogsPoll call, lets a running handler finish, saves the offset, then resolves. */
  signal?: AbortSignal;
}

/** How a consumer that was stopped ended. */
export interface ConsumeSummary {
  /**
   * The consumer's saved offset: the one this run saved last, or (start "saved") the one it resumed from if it
   * saved none; 0 = none. An offset is the id of the last entry handled, so the next run resumes at offset + 1.
   */
  readonly offset: bigint;
  /** Entries handled successfully by this run. */
  readonly handled: number;
}

/** Handles one entry; the consumer waits for the returned promise before the next entry. */
export type EntryHandler = (entry: AppLogEntry) => unknown | Promise<unknown>;
/** Handles the entries of one LogsPoll response, in log order (e.g. to write them in one transaction). */
export type BatchHandler = (entries: AppLogEntry[]) => unknown | Promise<unknown>;

/**
 * Runs consumers of the Application Log that keep their offset in the Event Store (ConsumerService), as a Kafka
 * consumer group member or an EventStoreDB catch-up subscription does.
 *
 * **Offset** = the id of the last entry handled; a consumer resumes at offset + 1, and its lag is
 * `GetHead.head_id − offset`. The offset is saved after the handler succeeded, once `saveEveryEntries` entries or
 * `saveIntervalMs` have passed, and when the consumer stops.
 *
 * **At-least-once**: an entry is never skipped, and while the consumer runs an entry that succeeded is never
 * delivered again, across reconnections too. But a process that crashes loses the offset it had not saved yet, so
 * the entries handled since the last save (normally at most `saveEveryEntries`, or `saveIntervalMs` worth; more if
 * saving was failing) are delivered again by the next run, as is an entry whose handler failed: handlers must be
 * idempotent, e.g. by storing the entry id with their own writes.
 *
 * **Reconnection**: a stream that fails with a transient error (see `isTransient`) or ends is reopened at
 * the last handled id + 1 after a backoff with full jitter, reset by every message received; so is a start-up call
 * (GetOffset, GetHead). Permanent errors (`invalid_argument` for a bad selector, `permission_denied`, …) reject.
 *
 * Handlers run one at a time, in log order.
 */
export interface LogConsumer {
  /**
   * Calls `handler` for each entry. Resolves only when `control.signal` aborts, after the final offset save (it
   * rejects if that save fails for `finalSaveTimeoutMs`). Rejects with the handler's error when it throws (after
   * `handlerRetries` retries), having saved the offset of the last entry that succeeded, never the failed one.
   */
  consume(options: ConsumeOptions, handler: EntryHandler, control?: ConsumeControl): Promise<ConsumeSummary>;
  /** Like {@link consume}, one call per LogsPoll response; a failed batch is retried or fails as a whole. */
  consumeBatches(options: ConsumeOptions, handler: BatchHandler, control?: ConsumeControl): Promise<ConsumeSummary>;
}

interface Clients {
  readonly eventStore: Client<typeof EventStoreService>;
  readonly consumers: ConsumerClient;
}

/**
 * Creates a {@link LogConsumer} over any transport (browser or Node). Against an Event Store with access control,
 * give the transport a `token` (`createNodeTransport({ ..., token })`). It must be a full token: the consumer saves
 * its offset (SaveOffset is a write), and with a read token the first save fails with `permission_denied`.
 */
export function createLogConsumer(transport: Transport): LogConsumer {
  const clients: Clients = {
    eventStore: withLeanLogsPoll(createClient(EventStoreService, transport), transport),
    consumers: createConsumerClient(transport),
  };
  const oneByOne =
    (handler: EntryHandler) =>
    (entries: AppLogEntry[]): HandlerUnit[] =>
      entries.map((entry) => ({ last: entry.id, count: 1, call: () => handler(entry) }));
  const asBatch =
    (handler: BatchHandler) =>
    (entries: AppLogEntry[]): HandlerUnit[] => [
      { last: entries.at(-1)!.id, count: entries.length, call: () => handler(entries) },
    ];
  return {
    consume: (options, handler, control) => run(clients, options, control, oneByOne(handler)),
    consumeBatches: (options, handler, control) => run(clients, options, control, asBatch(handler)),
  };
}

async function run(
  clients: Clients,
  options: ConsumeOptions,
  control: ConsumeControl | undefined,
  split: (entries: AppLogEntry[]) => HandlerUnit[],
): Promise<ConsumeSummary> {
  const resolved = resolveConsumeOptions(options);
  // One signal for "stop now": the caller's abort, a failed handler, an offset the store refuses to save, or a
  // callback that threw (a bug in the caller's logging or metrics should be seen, not swallowed).
  const stop = new AbortController();
  let failure: { error: unknown } | undefined;
  const fail = (error: unknown) => {
    failure ??= { error };
    stop.abort(error);
  };
  const throwIfFailed = () => {
    if (failure !== undefined) throw failure.error;
  };
  const guarded =
    <A extends unknown[]>(callback: (...args: A) => void) =>
    (...args: A) => {
      try {
        callback(...args);
      } catch (error) {
        fail(error);
      }
    };
  const o: ResolvedConsumeOptions = {
    ...resolved,
    onReconnect: guarded(resolved.onReconnect),
    onOffsetSaved: guarded(resolved.onOffsetSaved),
  };
  const userSignal = control?.signal;
  const onUserAbort = () => stop.abort(userSignal?.reason);
  if (userSignal?.aborted) onUserAbort();
  userSignal?.addEventListener("abort", onUserAbort, { once: true });
  try {
    const unary = (signal: AbortSignal): CallOptions => ({ headers: o.headers, timeoutMs: o.unaryTimeoutMs, signal });
    const start = await untilAnswered(
      () => startPosition(o.start, o.consumerId, clients, unary(stop.signal)),
      o,
      stop.signal,
    );
    if (start === undefined) {
      throwIfFailed();
      return { offset: 0n, handled: 0 };
    }
    const saver = createOffsetSaver({
      save: async (offset, signal) => void (await clients.consumers.saveOffset(o.consumerId, offset, unary(signal))),
      baseline: start.after,
      initialSaved: start.saved,
      everyEntries: o.saveEveryEntries,
      intervalMs: o.saveIntervalMs,
      backoff: o.backoff,
      onSaved: o.onOffsetSaved,
      onPermanentFailure: fail,
    });
    const handled = await followLog(clients.eventStore, o, start, saver, split, stop.signal, fail);
    if (failure !== undefined) {
      // Best effort: the failure is what the caller must hear about, not a save that could not follow it.
      await saver.close(o.finalSaveTimeoutMs).catch(() => {});
      throwIfFailed();
    }
    const offset = await saver.close(o.finalSaveTimeoutMs);
    throwIfFailed();
    return { offset, handled };
  } finally {
    userSignal?.removeEventListener("abort", onUserAbort);
  }
}
