import { Code, ConnectError } from "@eskit/client";
import { useCallback, useEffect, useRef, useState } from "react";
import { useConnection } from "../connection/connection-context.js";
import { emptyWindow, nextRange, withPage, type VersionWindow } from "./version-window.js";

/** What {@link useEntityEvents} holds: the versions read so far, whether a read is running, and its failure. */
export interface EntityEvents {
  readonly window: VersionWindow | undefined;
  readonly loading: boolean;
  /** The last read's failure (ErrorNotice shows it), or undefined. */
  readonly error: unknown;
  /** Reads the next page into the window; nothing while a read runs or once the window is full. */
  readonly loadMore: () => void;
}

interface State {
  readonly window: VersionWindow | undefined;
  readonly loading: boolean;
  readonly error: unknown;
}

/** The store answers an unknown originator with no events; the page says so as plainly as the CLI does. */
function noEvents(window: VersionWindow): ConnectError {
  const where = window.from === 1n ? "" : ` from version ${window.from}`;
  return new ConnectError(`originator "${window.originatorId}" has no events${where}`, Code.NotFound);
}

/**
 * Reads `originatorId`'s events page by page (see version-window.ts), starting at `from`, again whenever the
 * originator, `from`, `round` or the connection change. A new read aborts the one running, so an answer about
 * another entity never lands on the page.
 */
export function useEntityEvents(originatorId: string | undefined, from: bigint, round: number): EntityEvents {
  const { clients } = useConnection();
  const [state, setState] = useState<State>({ window: undefined, loading: false, error: undefined });
  const running = useRef<AbortController | undefined>(undefined);

  const read = useCallback(
    (window: VersionWindow) => {
      const range = nextRange(window);
      if (range === undefined) return;
      running.current?.abort();
      const abort = new AbortController();
      running.current = abort;
      setState({ window, loading: true, error: undefined });
      clients.eventStore.readEvents(window.originatorId, range, { signal: abort.signal, timeoutMs: 15_000 }).then(
        (page) => {
          if (abort.signal.aborted) return;
          const next = withPage(window, range, page);
          setState({ window: next, loading: false, error: next.events.length === 0 ? noEvents(next) : undefined });
        },
        (error: unknown) => abort.signal.aborted || setState({ window, loading: false, error }),
      );
    },
    [clients],
  );

  useEffect(() => {
    if (originatorId === undefined) {
      setState({ window: undefined, loading: false, error: undefined });
      return;
    }
    read(emptyWindow(originatorId, from));
    return () => running.current?.abort();
  }, [read, originatorId, from, round]);

  const { window, loading } = state;
  const loadMore = useCallback(() => {
    if (window !== undefined && !loading) read(window);
  }, [read, window, loading]);
  return { ...state, loadMore };
}
