import { create } from "@bufbuild/protobuf";
import type { CallOptions, Client } from "@connectrpc/connect";
import {
  EventStoreService,
  LogsRequestSchema,
  type LogsResponse,
} from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";

/** Options of {@link pageLogs}. */
export interface PageLogsOptions {
  /** First log id to read, inclusive; 0 or absent = from the start. */
  fromId?: bigint;
  /** Entries per page: the server's default (20) when absent, at most 1000. */
  size?: number;
  /** `""`/`"*"` = all, `"User.*"`, `"User.Created"`, `"*.Deleted"`. */
  selector?: string;
  /** When set, only this entity type. */
  pipelineId?: string;
  /** Per-call options (signal, timeout, headers) applied to every page request. */
  callOptions?: CallOptions;
}

/**
 * Reads the Application Log page by page up to its current end, following `next_from_id` so no entry is skipped
 * or repeated. Pages whose entries were all filtered out are not yielded, but the cursor still moves past them.
 * It stops when the server makes no progress (the cursor does not advance): that is the end of the log as of
 * that request; use {@link tailLogs} to keep following it.
 */
export async function* pageLogs(
  client: Client<typeof EventStoreService>,
  options: PageLogsOptions = {},
): AsyncGenerator<LogsResponse, void, undefined> {
  let fromId = options.fromId ?? 0n;
  for (;;) {
    const page = await client.logs(
      create(LogsRequestSchema, {
        fromId,
        size: options.size ?? 0,
        selector: options.selector ?? "",
        pipelineId: options.pipelineId ?? "",
      }),
      options.callOptions,
    );
    if (page.entries.length > 0) {
      yield page;
    }
    if (page.nextFromId <= fromId) {
      return;
    }
    fromId = page.nextFromId;
  }
}
