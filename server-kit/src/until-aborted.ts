/**
 * Settles with `work`, or rejects as soon as `signal` fires, with `reasonOf(signal)` (the signal's reason unless told
 * otherwise): code waiting in an `await` is not interrupted by its call's end, so a wait that must end with the call is
 * raced against its signal. `work` is left to settle on its own (to notice the signal itself); a failure of it after
 * the signal fired is handled here, never left unhandled. The listener goes when `work` settles.
 */
export function untilAborted<T>(
  work: Promise<T>,
  signal: AbortSignal,
  reasonOf: (signal: AbortSignal) => unknown = (fired) => fired.reason,
): Promise<T> {
  if (signal.aborted) {
    work.catch(() => {});
    return Promise.reject(reasonOf(signal) as Error);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(reasonOf(signal) as Error);
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error as Error);
      },
    );
  });
}
