import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import type { AppLogEntry } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import { LogsPollRequestSchema, type EventStoreService } from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
import { backoffDelay, sleep } from "./backoff.js";
import type { ResolvedConsumeOptions } from "./consume-options.js";
import type { StartPosition } from "./consume-start.js";
import { callWithRetries } from "./handler-retry.js";
import type { OffsetSaver } from "./offset-saver.js";
import { isTransient } from "./transient-error.js";

/** What one handler call covers: the last id in it, how many entries, and the call itself. */
export interface HandlerUnit {
  readonly last: bigint;
  readonly count: number;
  readonly call: () => unknown;
}

/**
 * Streams the log from `start` and hands it to the handler until `stop` aborts, reconnecting after transient
 * failures (or a stream that ends) from the last handled id + 1, never further back: entries already handled are
 * not delivered again, and none after them is skipped. `fail` is told of a handler that failed for good or a
 * permanent stream error; the caller decides what stopping means. Returns how many entries were handled.
 *
 * A stream that brings no message (entries or a heartbeat) for `heartbeatTimeoutMs` while we wait for one is taken
 * for a dead connection (a peer that vanished without a reset looks exactly like a quiet log) and reopened.
 */
export async function followLog(
  eventStore: Client<typeof EventStoreService>,
  o: ResolvedConsumeOptions,
  start: StartPosition,
  saver: Pick<OffsetSaver, "handled">,
  split: (entries: AppLogEntry[]) => HandlerUnit[],
  stop: AbortSignal,
  fail: (error: unknown) => void,
): Promise<number> {
  let after = start.after;
  let handled = 0;
  let attempt = 0;
  while (!stop.aborted) {
    let cause: unknown;
    // Its own controller, aborted in `finally`: leaving a `for await` over a Connect stream does not cancel it.
    const call = new AbortController();
    const cancel = () => call.abort();
    stop.addEventListener("abort", cancel, { once: true });
    const silence = watchdog(o.heartbeatTimeoutMs, () => call.abort());
    try {
      const request = create(LogsPollRequestSchema, {
        fromId: after + 1n,
        selector: o.selector,
        pipelineId: o.pipelineId,
      });
      silence.arm();
      for await (const response of eventStore.logsPoll(request, { headers: o.headers, signal: call.signal })) {
        silence.disarm();
        attempt = 0;
        for (const unit of response.entries.length > 0 ? split(response.entries) : []) {
          if (stop.aborted) break;
          const outcome = await callWithRetries(unit.call, o.handlerRetries, o.backoff, stop);
          if (outcome.kind === "failed") fail(outcome.error);
          if (outcome.kind !== "handled") break;
          after = unit.last;
          handled += unit.count;
          saver.handled(after, unit.count);
        }
        if (stop.aborted) break;
        silence.arm();
      }
      cause = new ConnectError("LogsPoll ended, but the log never ends: reconnecting", Code.Unavailable);
    } catch (error) {
      if (stop.aborted) break;
      if (silence.fired) {
        cause = new ConnectError(
          `LogsPoll brought no message for ${o.heartbeatTimeoutMs} ms, not even a heartbeat: reconnecting`,
          Code.Unavailable,
        );
      } else if (!isTransient(error)) {
        fail(error);
        break;
      } else {
        cause = error;
      }
    } finally {
      silence.disarm();
      stop.removeEventListener("abort", cancel);
      call.abort();
    }
    if (stop.aborted) break;
    const delay = backoffDelay(attempt++, o.backoff);
    o.onReconnect(cause, delay, attempt);
    await sleep(delay, stop);
  }
  return handled;
}

/** A timer that calls `onSilence` once `ms` pass between `arm` and `disarm` (never when `ms` is 0). */
function watchdog(ms: number, onSilence: () => void): { arm(): void; disarm(): void; readonly fired: boolean } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let fired = false;
  return {
    arm() {
      clearTimeout(timer);
      if (ms > 0)
        timer = setTimeout(() => {
          fired = true;
          onSilence();
        }, ms);
    },
    disarm() {
      clearTimeout(timer);
      timer = undefined;
    },
    get fired() {
      return fired;
    },
  };
}
