import { ValidationError } from "../domain/errors.js";
import { parseSelector } from "../domain/selector.js";
import type { Database } from "../storage/database.js";
import type { LogTail } from "./log-tail.js";
import { type LogPage, readLogPage } from "./read-log.js";
import { type LogBatch, type StreamLogOptions, streamLog, streamNothing } from "./stream-log.js";

/**
 * Reading the Application Log, once for every contract: our `Logs`/`LogsPoll` and v1's differ only in the shapes of
 * their messages, so the selector, the page size rules and the following of the log live here and the RPC edges only
 * convert (see rpc/event-store-service.ts and compat-v1/eventstore-v1-service.ts).
 */

/** Entries per `Logs` page when the request names no size, and the most it may name. */
const defaultLogPageSize = 20;
const maxLogPageSize = 1000;

/** Where to read from and what: a selector (`*`, `Type`, `Type.Action`, ...) or its v1 spelling as a pipeline id. */
export interface LogQuery {
  readonly selector: string;
  readonly pipelineId: string;
  readonly fromId: bigint;
}

/** One page of the entries passing the query from `fromId` on: `size` of them at most (0 = the default). */
export async function pageOfLog(
  database: Database,
  query: LogQuery & { readonly size: number },
  signal?: AbortSignal,
): Promise<LogPage> {
  const filter = parseSelector(query.selector, query.pipelineId);
  if (query.size > maxLogPageSize) {
    throw new ValidationError(`size is ${query.size}: at most ${maxLogPageSize} entries per page`);
  }
  const size = query.size === 0 ? defaultLogPageSize : query.size;
  if (filter.matchesNothing) return { entries: [], nextFromId: query.fromId };
  return readLogPage(database, query.fromId, filter, size, signal);
}

/**
 * Every entry passing the query from `fromId` on, as batches (an empty one is a heartbeat, every
 * `streams.heartbeatMs`), then each new entry as it commits. The log never ends: this stops only when `signal` aborts,
 * and then throws its reason (shutdown → unavailable, deadline → deadline_exceeded), so that no client takes a closed
 * stream for "no more events" and stops consuming.
 */
export async function* followLog(
  database: Database,
  tail: LogTail,
  query: LogQuery,
  signal: AbortSignal,
  streams: StreamLogOptions,
): AsyncGenerator<LogBatch> {
  const filter = parseSelector(query.selector, query.pipelineId);
  yield* filter.matchesNothing
    ? streamNothing(signal, streams.heartbeatMs)
    : streamLog(database, tail, query.fromId, filter, signal, streams);
  throw signal.reason;
}
