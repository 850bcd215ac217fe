import { Gauge, type Registry } from "prom-client";
import { CellHistogram } from "@eskit/server-kit/metrics/cell-metrics.js";
import type { Database } from "../storage/database.js";
import type { LogTail } from "./log-tail.js";
import { readLogHead } from "./read-log.js";

/** Options of {@link registerStoreMetrics}. */
export interface StoreMetricsOptions {
  readonly database: Database;
  readonly tail: LogTail;
  /** How long a scrape waits for the head from the database before it reports the last one known (default 1000). */
  readonly headTimeoutMs?: number;
  /** Told when the head could not be read in time. */
  readonly onHeadError?: (error: unknown) => void;
}

/** Told of every group commit: how many Append requests and events it wrote. */
export type CommitObserver = (requests: number, events: number) => void;

const batchEventBuckets = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];
const batchRequestBuckets = [1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000];

/**
 * The Event Store's own metrics, beside the RPC ones:
 * - `eskit_log_head_id` (gauge): the id of the latest Application Log entry, read when Prometheus scrapes (the primary
 *   key's maximum: one index probe). The log tail's copy would do no work, but it stands still while no LogsPoll
 *   stream waits. A database that does not answer within `headTimeoutMs` does not hang `/metrics`: the scrape then
 *   reports the highest head known (ids only grow), and the failing database shows in `/healthz` and in RPC codes.
 *   The value is a float64 in Prometheus: exact up to 2^53.
 * - `eskit_append_batch_events`, `eskit_append_batch_requests` (histograms): per group commit, the events it wrote
 *   and the Append requests it served (their _count is the number of commits), fed by the returned observer.
 */
export function registerStoreMetrics(registry: Registry, options: StoreMetricsOptions): CommitObserver {
  const { database, tail } = options;
  const timeoutMs = options.headTimeoutMs ?? 1000;
  let known = 0n;
  new Gauge({
    name: "eskit_log_head_id",
    help: "Id of the latest entry of the Application Log (0 while it is empty).",
    registers: [registry],
    async collect() {
      try {
        known = await withTimeout(readLogHead(database), timeoutMs);
      } catch (error) {
        options.onHeadError?.(error);
        if (tail.head > known) known = tail.head;
      }
      this.set(Number(known));
    },
  });
  const events = new CellHistogram({
    name: "eskit_append_batch_events",
    help: "Events written per group commit (concurrent Append requests share one).",
    labelNames: [],
    buckets: batchEventBuckets,
    registry,
  }).cell({});
  const requests = new CellHistogram({
    name: "eskit_append_batch_requests",
    help: "Append requests written per group commit.",
    labelNames: [],
    buckets: batchRequestBuckets,
    registry,
  }).cell({});
  return (requestCount, eventCount) => {
    if (eventCount === 0) return; // nothing was written, so nothing was committed
    events.observe(eventCount);
    requests.observe(requestCount);
  };
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from the database within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
