import type { NewEvent } from "@eskit/client/new-event.js";
import type { OriginatorSequence } from "./sample-events.js";
import { summarize } from "./stats.js";

/** Appends `n` single events, the i-th at t0 + i/rate, without waiting for earlier ones; returns when each answered, by log id. */
export async function appendAtRate(
  append: (events: NewEvent[]) => Promise<bigint>,
  sequence: OriginatorSequence,
  n: number,
  rate: number,
) {
  const answered = new Map<bigint, number>();
  const latencies: number[] = [];
  const t0 = performance.now();
  const pending: Promise<void>[] = [];
  let failure: unknown;
  for (let i = 0; i < n; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    // One originator per event: open-loop appends may overlap, and must never race for a version.
    const events = sequence.next(100 + i, 1);
    const sent = performance.now();
    pending.push(
      append(events).then(
        (id) => {
          const now = performance.now();
          answered.set(id, now);
          latencies.push(now - sent);
        },
        // Held until every append settled: a rejection left unhandled meanwhile would end the process.
        (error: unknown) => void (failure ??= error),
      ),
    );
  }
  await Promise.all(pending);
  if (failure !== undefined) throw failure;
  return { answered, appendLatency: summarize(latencies), seconds: (performance.now() - t0) / 1000 };
}
