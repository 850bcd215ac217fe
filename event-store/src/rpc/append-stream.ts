import { create } from "@bufbuild/protobuf";
import {
  type AppendStreamRequest,
  type AppendStreamResponse,
  AppendStreamResponseSchema,
} from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
import type { RequestClock } from "@eskit/server-kit/http/request-clock.js";
import { untilAborted } from "@eskit/server-kit/until-aborted.js";
import { type AppendLimits, type ValidEvent, validateAppend } from "../domain/validate-append.js";
import type { AppendBatcher } from "../store/append-batcher.js";
import { toNewEvent } from "./convert.js";

/** The stream's next request, checked: its events, the end of the stream, or why it cannot be written. */
type Next = { readonly events: ValidEvent[] } | { readonly done: true } | { readonly error: unknown };

/**
 * AppendStream: each request is one Append, written only once the one before it has committed, so the requests keep
 * the stream's order in the log (two Appends in flight at once may commit in either order: the group commit runs
 * several transactions in parallel). What makes it faster than Appends one after the other is the overlap: while
 * request k is written, request k + 1 is read, decoded and checked, so the server's work and PostgreSQL's no longer
 * take turns. At most one request is read ahead, so a stream holds at most two requests (each bounded as an Append).
 *
 * The first request that cannot be stored ends the stream with its error, after the answers of every request before
 * it; nothing after it is written. `signal` (the call's: its client gone, its deadline, a shutdown) cancels the write
 * under way as it does an Append's, and every wait here gives up when it fires. `clock` times the next request (see
 * request-clock.ts in server-kit): it is paused while a request is written.
 */
export async function* appendInStreamOrder(
  requests: AsyncIterable<AppendStreamRequest>,
  batcher: Pick<AppendBatcher, "append">,
  limits: AppendLimits,
  signal: AbortSignal,
  clock: RequestClock = { pause: () => () => {} },
): AsyncGenerator<AppendStreamResponse> {
  const it = requests[Symbol.asyncIterator]();
  // Never rejects: a request read ahead that fails (malformed, over a limit, a broken stream) is answered only after
  // the one before it, and one still pending when the stream ends early must not become an unhandled rejection.
  const readNext = (): Promise<Next> =>
    it
      .next()
      .then((read): Next =>
        read.done === true ? { done: true } : { events: validateAppend(read.value.events.map(toNewEvent), limits) },
      )
      .catch((error: unknown): Next => ({ error }));
  for (let next = await untilAborted(readNext(), signal); !("done" in next);) {
    if ("error" in next) throw next.error;
    const ahead = readNext();
    // The server has the turn until this request is answered: a client that waits for each answer before it sends
    // the next request is not timed meanwhile, however long the write takes.
    const resume = clock.pause();
    let logIds: bigint[];
    try {
      logIds = await untilAborted(batcher.append(next.events, signal), signal);
    } finally {
      resume();
    }
    yield create(AppendStreamResponseSchema, { logIds });
    next = await untilAborted(ahead, signal);
  }
}
