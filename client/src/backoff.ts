/** How long to wait between attempts: exponential growth from `initialDelayMs`, capped at `maxDelayMs`. */
export interface BackoffOptions {
  /** The cap of the first delay, in ms. */
  initialDelayMs: number;
  /** The cap every later delay grows to, in ms. */
  maxDelayMs: number;
}

/**
 * The delay before retry number `attempt` (0 for the first retry): a uniformly random duration between 0 and
 * `min(maxDelayMs, initialDelayMs · 2^attempt)` ("full jitter"). The randomness matters more than the growth: when
 * the event store restarts, every consumer it had reconnects at once, and full jitter spreads them over the whole
 * window instead of sending them back in one wave at each doubling.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  return Math.floor(random() * backoffCeiling(attempt, options));
}

/** The upper bound of {@link backoffDelay} for `attempt`; never above `maxDelayMs`, and finite for any attempt. */
export function backoffCeiling(attempt: number, { initialDelayMs, maxDelayMs }: BackoffOptions): number {
  // 2^attempt overflows to Infinity past ~1024 attempts; the cap is reached long before, so stop doubling there.
  const exponent = Math.min(Math.max(attempt, 0), 52);
  return Math.min(maxDelayMs, initialDelayMs * 2 ** exponent);
}

/**
 * Waits `ms`, or less when `signal` aborts; resolves to false when it was cut short. It never rejects, so a caller
 * that is stopping goes straight on to its clean-up (a final offset save) instead of unwinding an exception.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) {
    return Promise.resolve(false);
  }
  return new Promise((resolve) => {
    const done = (completed: boolean) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      resolve(completed);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
