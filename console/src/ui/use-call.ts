import { useCallback, useEffect, useState } from "react";

/** The state of one call: running, answered, or failed (with the error shown by ErrorNotice). */
export type CallState<T> =
  | { readonly status: "running" }
  | { readonly status: "done"; readonly value: T }
  | { readonly status: "failed"; readonly error: unknown };

/**
 * Runs `call` now and again whenever `deps` change or `reload()` is called, aborting the previous run, so a page
 * never shows an answer to a question it no longer asks. The signal also ends the call when the page goes away.
 */
export function useCall<T>(
  call: (signal: AbortSignal) => Promise<T>,
  deps: readonly unknown[],
): [CallState<T>, () => void] {
  const [state, setState] = useState<CallState<T>>({ status: "running" });
  const [round, setRound] = useState(0);
  useEffect(() => {
    const abort = new AbortController();
    setState({ status: "running" });
    call(abort.signal).then(
      (value) => abort.signal.aborted || setState({ status: "done", value }),
      (error: unknown) => abort.signal.aborted || setState({ status: "failed", error }),
    );
    return () => abort.abort();
    // `call` is a new closure each render; `deps` say when it asks something new.
  }, [...deps, round]);
  const reload = useCallback(() => setRound((r) => r + 1), []);
  return [state, reload];
}
