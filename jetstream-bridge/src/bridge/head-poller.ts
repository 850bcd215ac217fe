import type { EventStoreClient } from "@eskit/client";

/**
 * Reads the log head (`GetHead`) every `intervalMs` for the lag, one call at a time, each cut at the interval.
 * Failures are silent: the lag gauge keeps its last value, and the consumer's reconnections are what gets logged.
 */
export function pollHead(
  client: EventStoreClient,
  intervalMs: number,
  onHead: (head: bigint) => void,
): { stop(): Promise<void> } {
  const stopped = new AbortController();
  let inFlight: Promise<void> | undefined;
  const poll = () => {
    if (inFlight !== undefined) return;
    const signal = AbortSignal.any([stopped.signal, AbortSignal.timeout(intervalMs)]);
    inFlight = client
      .getHead({}, { signal })
      .then(
        (response) => onHead(response.headId),
        () => {},
      )
      .finally(() => (inFlight = undefined));
  };
  const timer = setInterval(poll, intervalMs);
  timer.unref();
  poll();
  return {
    stop: async () => {
      clearInterval(timer);
      stopped.abort();
      await inFlight;
    },
  };
}
