/** What a closed-loop run measured. */
export interface LoopResult<W = undefined> {
  readonly events: number;
  readonly requests: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
  /** Request latencies of the measured window, in ms. */
  readonly latencies: number[];
  /** What `window.stop()` returned (e.g. CPU shares of the window). */
  readonly window: W;
}

/** Something sampled over exactly the measured window, such as CPU time. */
export interface WindowProbe<W> {
  start(): Promise<void>;
  stop(): Promise<W>;
}

export interface LoopOptions<W> {
  readonly concurrency: number;
  readonly warmupSeconds: number;
  readonly seconds: number;
  /** One request of worker `worker`; resolves with how many events it wrote. */
  readonly op: (worker: number) => Promise<number>;
  readonly probe?: WindowProbe<W>;
}

const sleepUntil = (t: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, t - performance.now())));

/**
 * Runs `concurrency` workers, each issuing its next request as soon as the previous one answers, for a warm-up
 * and then the measured window. Only requests that complete inside the window count, so the requests still in
 * flight at either edge neither inflate nor deflate the rate.
 */
export async function runClosedLoop<W = undefined>(options: LoopOptions<W>): Promise<LoopResult<W>> {
  const start = performance.now() + options.warmupSeconds * 1000;
  const end = start + options.seconds * 1000;
  let events = 0;
  let requests = 0;
  const latencies: number[] = [];
  const probing = (async () => {
    if (options.probe === undefined) return undefined as W;
    await sleepUntil(start);
    await options.probe.start();
    await sleepUntil(end);
    return options.probe.stop();
  })();
  const worker = async (index: number) => {
    while (performance.now() < end) {
      const sent = performance.now();
      const n = await options.op(index);
      const done = performance.now();
      if (done >= start && done <= end) {
        events += n;
        requests++;
        latencies.push(done - sent);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, (_, i) => worker(i)));
  const window = await probing;
  return { events, requests, seconds: options.seconds, eventsPerSecond: events / options.seconds, latencies, window };
}
