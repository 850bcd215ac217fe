import { isTransient, type AppLogEntry } from "@eskit/client";
import { useCallback, useEffect, useRef, useState } from "react";
import { useConnection } from "../connection/connection-context.js";
import { LogBuffer } from "./log-buffer.js";
import { firstIdOf, type LogStart } from "./log-start.js";
import { RateMeter } from "./rate-meter.js";

/** How many entries the page holds: a few minutes at 2,000/s would be far more, so older ones are let go. */
export const logBufferCapacity = 10_000;
/** Wait before following again after the connection was lost. */
const reconnectDelayMs = 1000;

/** Where the tail is. */
export type TailStatus = "idle" | "following" | "reconnecting" | "paused" | "failed";

/** The Log page's live tail: its entries (bounded), its state, and what a person can do with it. */
export interface LogTail {
  readonly status: TailStatus;
  /** Why it failed or is reconnecting. */
  readonly error: unknown;
  readonly entries: LogBuffer<AppLogEntry>;
  /** Changes (at most once a frame) whenever `entries` did, so that views re-render. */
  readonly revision: number;
  /** Entries per second arriving, over the last two seconds. */
  readonly rate: number;
  start(from: LogStart, selector: string): void;
  pause(): void;
  resume(): void;
}

/**
 * Follows the Application Log with LogsPoll. Entries go into a bounded buffer and the view is told at most once a
 * frame, so 2,000 entries a second cost one render a frame, not 2,000. Pausing cancels the stream; resuming asks for
 * the entry after the last one received, so nothing is skipped or shown twice. A lost connection is retried from the
 * same place every second; any other refusal (a bad selector, a token that may not read) stops it and is shown.
 */
export function useLogTail(): LogTail {
  const { clients } = useConnection();
  const entries = useRef(new LogBuffer<AppLogEntry>(logBufferCapacity)).current;
  const meter = useRef(new RateMeter()).current;
  const stream = useRef<{ abort: AbortController; nextId: bigint; selector: string } | undefined>(undefined);
  const [status, setStatus] = useState<TailStatus>("idle");
  const [error, setError] = useState<unknown>(undefined);
  const [revision, setRevision] = useState(0);
  const [rate, setRate] = useState(0);
  const frame = useRef<number | undefined>(undefined);

  const changed = useCallback(() => {
    frame.current ??= requestAnimationFrame(() => {
      frame.current = undefined;
      setRevision((r) => r + 1);
    });
  }, []);

  const follow = useCallback(
    (fromId: bigint, selector: string) => {
      stream.current?.abort.abort();
      const current = { abort: new AbortController(), nextId: fromId, selector };
      stream.current = current;
      const { signal } = current.abort;
      setStatus("following");
      setError(undefined);
      void (async () => {
        for (;;) {
          try {
            for await (const entry of clients.eventStore.tail({ fromId: current.nextId, selector, signal })) {
              // A cancelled stream still hands over the rest of the response it was reading: not ours any more.
              if (signal.aborted) return;
              entries.push(entry);
              current.nextId = entry.id + 1n;
              meter.add(1, performance.now());
              changed();
            }
            if (signal.aborted) return;
            // The server ended the stream (a restart, its stream lifetime): carry on from the next entry.
          } catch (err) {
            if (signal.aborted) return;
            if (!isTransient(err)) {
              setStatus("failed");
              setError(err);
              return;
            }
            setStatus("reconnecting");
            setError(err);
            await new Promise((resolve) => setTimeout(resolve, reconnectDelayMs));
            if (signal.aborted) return;
            setStatus("following");
            setError(undefined);
          }
        }
      })();
    },
    [clients, entries, meter, changed],
  );

  const start = useCallback(
    (from: LogStart, selector: string) => {
      stream.current?.abort.abort();
      entries.clear();
      meter.reset();
      changed();
      const abort = new AbortController();
      stream.current = { abort, nextId: 0n, selector };
      firstIdOf(from, () => clients.eventStore.getHead({}, { signal: abort.signal }).then((r) => r.headId)).then(
        (firstId) => abort.signal.aborted || follow(firstId, selector),
        (err: unknown) => {
          if (abort.signal.aborted) return;
          // Nothing was followed, so there is no place to resume from: the person starts again.
          stream.current = undefined;
          setStatus("failed");
          setError(err);
        },
      );
    },
    [clients, entries, meter, changed, follow],
  );

  const pause = useCallback(() => {
    if (stream.current === undefined) return;
    stream.current.abort.abort();
    // Before the first entry was asked for (the head still being read) there is nowhere to resume from.
    setStatus(stream.current.nextId > 0n ? "paused" : "idle");
  }, []);

  const resume = useCallback(() => {
    const last = stream.current;
    if (last !== undefined && last.nextId > 0n) follow(last.nextId, last.selector);
  }, [follow]);

  useEffect(() => {
    const timer = setInterval(() => setRate(meter.perSecond(performance.now())), 500);
    return () => {
      clearInterval(timer);
      stream.current?.abort.abort();
      if (frame.current !== undefined) cancelAnimationFrame(frame.current);
    };
  }, [meter]);

  return { status, error, entries, revision, rate, start, pause, resume };
}
