/**
 * A signal that aborts once every one of `signals` has; never when one of them is undefined (a request without a
 * deadline keeps its batch going). `dispose` removes the listeners.
 */
export function whenAllAborted(signals: ReadonlyArray<AbortSignal | undefined>): {
  signal: AbortSignal;
  dispose(): void;
} {
  const all = new AbortController();
  if (signals.some((s) => s === undefined)) return { signal: all.signal, dispose: () => {} };
  const present = signals as readonly AbortSignal[];
  let left = present.filter((s) => !s.aborted).length;
  const onAbort = (): void => {
    if (--left === 0) all.abort();
  };
  if (left === 0) all.abort();
  else for (const s of present) if (!s.aborted) s.addEventListener("abort", onAbort, { once: true });
  return { signal: all.signal, dispose: () => present.forEach((s) => s.removeEventListener("abort", onAbort)) };
}
