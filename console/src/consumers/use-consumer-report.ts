import type { Consumer } from "@eskit/client";
import { useCallback, useEffect, useRef, useState } from "react";
import { useConnection } from "../connection/connection-context.js";
import type { Clients } from "../connection/clients.js";

/** How often the page asks again: often enough to watch a consumer catch up, rare enough to cost the store nothing. */
export const refreshEveryMs = 5000;

/** One answer: every consumer, the head it is measured against, and when the answer came (browser time). */
export interface ConsumerReport {
  readonly consumers: readonly Consumer[];
  readonly head: bigint;
  readonly at: number;
}

/** The latest answer and the latest failure; a failed refresh keeps the answer before it on the page. */
export interface ConsumerReportState {
  readonly report: ConsumerReport | undefined;
  readonly error: unknown;
  /** Asks now, whether or not refreshing is paused. */
  readonly refresh: () => void;
}

interface Held {
  readonly source: Clients;
  readonly report: ConsumerReport | undefined;
  readonly error: unknown;
}

/**
 * Every consumer (ListConsumers answers all of them in one call) with the head of the log (GetHead), asked now and
 * then {@link refreshEveryMs} after each answer while not `paused`: the next ask waits for the last answer, so a
 * slow store is never sent a pile of calls. Answers from earlier settings (another URL or token) are dropped.
 */
export function useConsumerReport(paused: boolean): ConsumerReportState {
  const { clients } = useConnection();
  const [held, setHeld] = useState<Held>({ source: clients, report: undefined, error: undefined });
  const [round, setRound] = useState(0);
  // What was last asked for: pausing asks nothing, but "Refresh now" and new settings ask even while paused.
  const asked = useRef<{ clients: Clients; round: number } | undefined>(undefined);

  useEffect(() => {
    if (paused && asked.current?.clients === clients && asked.current.round === round) return;
    asked.current = { clients, round };
    const abort = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ask = async () => {
      const options = { signal: abort.signal, timeoutMs: 10_000 };
      try {
        const [list, head] = await Promise.all([
          clients.consumers.listConsumers({}, options),
          clients.eventStore.getHead({}, options),
        ]);
        if (abort.signal.aborted) return;
        const report = { consumers: list.consumers, head: head.headId, at: Date.now() };
        setHeld({ source: clients, report, error: undefined });
      } catch (error) {
        if (abort.signal.aborted) return;
        setHeld((h) => ({ source: clients, report: h.source === clients ? h.report : undefined, error }));
      }
      if (!paused) timer = setTimeout(() => void ask(), refreshEveryMs);
    };
    void ask();
    return () => {
      abort.abort();
      clearTimeout(timer);
    };
  }, [clients, paused, round]);

  const refresh = useCallback(() => setRound((r) => r + 1), []);
  const current = held.source === clients ? held : { report: undefined, error: undefined };
  return { report: current.report, error: current.error, refresh };
}
