import { create } from "@bufbuild/protobuf";
import { createClient, type CallOptions, type Client, type Transport } from "@connectrpc/connect";
import type { AppLogEntry, Event } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import {
  AppendRequestSchema,
  EventStoreService,
  GetEventsRequestSchema,
  type LogsResponse,
} from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
import { withLeanLogsPoll } from "./lean-logs-poll.js";
import { appendInOrder, type AppendBatch, type AppendInOrderOptions } from "./append-in-order.js";
import { appendWithRetries, type AppendOptions } from "./append-retry.js";
import { toEvent, type NewEvent } from "./new-event.js";
import { pageLogs, type PageLogsOptions } from "./page-logs.js";
import { tailLogs, type TailOptions } from "./tail-logs.js";

/** Which versions of an originator {@link EventStoreClient.readEvents} returns; both bounds inclusive. */
export interface VersionRange {
  /** Absent or 0 = from the first version. */
  fromVersion?: bigint;
  /** Absent or 0 = up to the latest version. */
  toVersion?: bigint;
}

/**
 * The generated EventStoreService client (every RPC, proto in and out) plus conveniences for the common
 * cases, so applications need not build nested proto messages or drive streams and cursors by hand.
 */
export type EventStoreClient = Client<typeof EventStoreService> & {
  /**
   * Appends events atomically; resolves to their Application Log ids in request order. With `retries`, an append
   * that failed with `unavailable` or `deadline_exceeded` is sent again with the same event ids (see
   * {@link AppendOptions}).
   */
  appendEvents(events: readonly NewEvent[], options?: AppendOptions): Promise<bigint[]>;
  /**
   * Appends batches in order over one AppendStream (HTTP/2 transports only), each batch atomic, each written once the
   * one before it committed; yields each batch's log ids in batch order. See {@link appendInOrder}.
   */
  appendInOrder(
    batches: AsyncIterable<AppendBatch> | Iterable<AppendBatch>,
    options?: AppendInOrderOptions,
  ): AsyncGenerator<bigint[], void, undefined>;
  /** Reads one originator's events in version order. */
  readEvents(originatorId: string, range?: VersionRange, options?: CallOptions): Promise<Event[]>;
  /** Follows the Application Log entry by entry; see {@link tailLogs}. */
  tail(options?: TailOptions): AsyncGenerator<AppLogEntry, void, undefined>;
  /** Reads the Application Log page by page up to its current end; see {@link pageLogs}. */
  pageLogs(options?: PageLogsOptions): AsyncGenerator<LogsResponse, void, undefined>;
};

/** Creates an {@link EventStoreClient} over any transport (browser or Node). */
export function createEventStoreClient(transport: Transport): EventStoreClient {
  // LogsPoll decodes by hand over binary transports (see lean-logs-poll.ts); every other method is the generated one.
  const client = withLeanLogsPoll(createClient(EventStoreService, transport), transport);
  return {
    ...client,
    appendEvents(events, options) {
      return appendWithRetries(
        async (attempt, call) =>
          (await client.append(create(AppendRequestSchema, { events: attempt.map(toEvent) }), call)).logIds,
        events,
        options,
      );
    },
    appendInOrder: (batches, options) => appendInOrder(client, batches, options),
    async readEvents(originatorId, range = {}, options) {
      const response = await client.getEvents(
        create(GetEventsRequestSchema, {
          originatorId,
          fromVersion: range.fromVersion ?? 0n,
          toVersion: range.toVersion ?? 0n,
        }),
        options,
      );
      return response.events;
    },
    tail: (options) => tailLogs(client, options),
    pageLogs: (options) => pageLogs(client, options),
  };
}
