import { backoffDelay, sleep, type BackoffOptions } from "./backoff.js";

/** How one call of the user's handler ended. */
export type HandlerOutcome =
  { readonly kind: "handled" } | { readonly kind: "failed"; readonly error: unknown } | { readonly kind: "stopped" };

/**
 * Calls `handler` until it succeeds, at most `retries + 1` times, waiting with backoff in between. A stop during a
 * wait ends it without error (`stopped`): the entry was not handled, its offset is not saved, and it is delivered
 * again next time. A handler that fails after a stop was requested is not retried.
 */
export async function callWithRetries(
  handler: () => unknown,
  retries: number,
  backoff: BackoffOptions,
  stop: AbortSignal,
): Promise<HandlerOutcome> {
  for (let attempt = 0; ; attempt++) {
    try {
      await handler();
      return { kind: "handled" };
    } catch (error) {
      if (attempt >= retries || stop.aborted) {
        return { kind: "failed", error };
      }
    }
    if (!(await sleep(backoffDelay(attempt, backoff), stop))) {
      return { kind: "stopped" };
    }
  }
}
