import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type CallOptions, type Client } from "@connectrpc/connect";
import type { AppLogEntry } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import { EventStoreService, LogsPollRequestSchema } from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";

/** Options of {@link tailLogs}. */
export interface TailOptions {
  /** First log id to deliver, inclusive; 0 or absent = from the start. */
  fromId?: bigint;
  /** `""`/`"*"` = all, `"User.*"`, `"User.Created"`, `"*.Deleted"`. */
  selector?: string;
  /** When set, only this entity type. */
  pipelineId?: string;
  /** Aborting it cancels the call on the server and ends the iteration quietly. */
  signal?: AbortSignal;
  /** Headers and other per-call options; `signal` above takes precedence. */
  callOptions?: Omit<CallOptions, "signal">;
}

/**
 * Follows the Application Log with LogsPoll, one entry at a time, across as many response messages as the
 * server sends. The call is cancelled however the iteration ends — `break`, `return`, an exception in the loop
 * body or the caller's signal — because leaving a `for await` over a Connect stream does not cancel it by
 * itself, and an abandoned LogsPoll keeps a server-side listener alive.
 */
export async function* tailLogs(
  client: Client<typeof EventStoreService>,
  options: TailOptions = {},
): AsyncGenerator<AppLogEntry, void, undefined> {
  const { signal } = options;
  if (signal?.aborted) {
    return;
  }
  const call = new AbortController();
  const forward = () => call.abort(signal?.reason);
  signal?.addEventListener("abort", forward, { once: true });
  try {
    const request = create(LogsPollRequestSchema, {
      fromId: options.fromId ?? 0n,
      selector: options.selector ?? "",
      pipelineId: options.pipelineId ?? "",
    });
    for await (const response of client.logsPoll(request, { ...options.callOptions, signal: call.signal })) {
      for (const entry of response.entries) {
        yield entry;
      }
    }
  } catch (err) {
    if (signal?.aborted && ConnectError.from(err).code === Code.Canceled) {
      return;
    }
    throw err;
  } finally {
    signal?.removeEventListener("abort", forward);
    call.abort();
  }
}
