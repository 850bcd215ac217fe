import { isMessage } from "@bufbuild/protobuf";
import { Code, ConnectError, type CallOptions, type Client } from "@connectrpc/connect";
import { type Event, EventSchema } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import {
  type AppendStreamRequest,
  AppendStreamRequestSchema,
  type EventStoreService,
} from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
import { toEvent, type NewEvent } from "./new-event.js";

/** Options of {@link EventStoreClient.appendInOrder}: a call's options, plus how far it may run ahead. */
export interface AppendInOrderOptions extends CallOptions {
  /**
   * How many batches may be sent and not yet answered; the next one waits for room. Default 3: enough for the
   * server to read one batch while it writes another, with one on the way; each one more is a batch more in memory
   * and, after a lost connection, sent again.
   */
  window?: number;
}

/**
 * One batch of {@link appendInOrder}: application events, proto events as read from a log or an export, or the
 * request already built (`eskit import` builds it with its events already in binary).
 */
export type AppendBatch = readonly NewEvent[] | readonly Event[] | AppendStreamRequest;

/**
 * Appends `batches` in order over one AppendStream: each batch is one atomic Append, written once the batch before it
 * has committed, so the batches keep their order in the log (and their log ids increase). Yields each batch's log
 * ids as it commits, in batch order. The first batch that fails ends it with that batch's error (the one Append gives
 * it): the batches stored are exactly the ones whose ids were yielded. After a lost connection (`unavailable`), a
 * batch sent but not answered may be stored or not: send it again with the same event ids and it is stored once.
 *
 * Faster than Appends one after the other (the server checks the next batch while the database writes the one
 * before), safe where parallel Appends are not (they may commit in any order). The stream needs HTTP/2: a transport
 * of `createNodeTransport` with `httpVersion: "2"` (Connect, gRPC or gRPC-Web); browsers cannot send one. A server
 * without AppendStream answers `unimplemented`. Leaving the loop early (`break`) cancels the call.
 */
export async function* appendInOrder(
  client: Client<typeof EventStoreService>,
  batches: AsyncIterable<AppendBatch> | Iterable<AppendBatch>,
  options: AppendInOrderOptions = {},
): AsyncGenerator<bigint[], void, undefined> {
  const { window = 3, signal, ...call } = options;
  if (!Number.isInteger(window) || window < 1) {
    throw new ConnectError(`window must be an integer >= 1, got ${window}`, Code.InvalidArgument);
  }
  // Ours, so that leaving early cancels the call (a `break` out of a stream's loop alone does not).
  const cancel = new AbortController();
  const onAbort = (): void => cancel.abort(signal?.reason);
  if (signal?.aborted) onAbort();
  else signal?.addEventListener("abort", onAbort, { once: true });
  let sent = 0;
  let answered = 0;
  let finished = false;
  let wake: (() => void) | undefined;
  let sourceFailed: { error: unknown } | undefined;
  async function* requests() {
    try {
      for await (const batch of batches) {
        while (sent - answered >= window && !finished) await new Promise<void>((resolve) => (wake = resolve));
        if (finished) return;
        sent++;
        yield isMessage(batch, AppendStreamRequestSchema)
          ? batch
          : { events: batch.map((e: NewEvent | Event) => (isMessage(e, EventSchema) ? e : toEvent(e))) };
      }
    } catch (error) {
      // The caller's own error, not the call's: it ends the call and is what the caller gets back.
      sourceFailed = { error };
      cancel.abort(error);
    }
  }
  const source = requests();
  try {
    for await (const response of client.appendStream(source, { ...call, signal: cancel.signal })) {
      answered++;
      wake?.();
      yield response.logIds;
    }
    if (sourceFailed !== undefined) throw sourceFailed.error;
  } catch (error) {
    throw sourceFailed !== undefined ? sourceFailed.error : error;
  } finally {
    finished = true;
    wake?.();
    signal?.removeEventListener("abort", onAbort);
    cancel.abort();
    // Closes the caller's batches (a file being read, say), whether or not the call got to the end of them.
    void source.return(undefined).catch(() => {});
  }
}
