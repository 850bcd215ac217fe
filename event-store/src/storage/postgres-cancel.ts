/** Awaits a postgres.js query, cancelling it when `signal` aborts. */
export async function cancelledBy<T>(pending: PromiseLike<T> & object, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return pending;
  const cancel = (): void => cancelQuery(pending);
  if (signal.aborted) cancel();
  else signal.addEventListener("abort", cancel, { once: true });
  try {
    return await pending;
  } finally {
    signal.removeEventListener("abort", cancel);
  }
}

/**
 * Cancels a postgres.js query. Its `cancel()` drops the promise of the cancel request, which rejects when the request
 * cannot be sent (the database unreachable: just when deadlines pass), and an unhandled rejection ends the process;
 * so the canceller it wraps (postgres.js 3.4, pinned) is called here and its failure ignored: the statement then
 * fails with its connection anyway.
 */
function cancelQuery(query: object): void {
  const q = query as { canceller?: ((query: object) => Promise<void>) | null };
  const canceller = q.canceller;
  if (typeof canceller !== "function") return;
  q.canceller = null;
  canceller(query).catch(() => {});
}
