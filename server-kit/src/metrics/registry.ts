import { collectDefaultMetrics, Registry } from "prom-client";

// The process's own figures (CPU, memory, event loop lag, GC, handles) are collected once per process, however many
// services it runs (tests start dozens): each default collector hooks into the runtime (a GC observer, an event
// loop delay monitor) and is never removed.
let processMetrics: Registry | undefined;
const lintFailures = ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"];

/**
 * A fresh Registry for one service, holding prom-client's default process metrics (`process_cpu_seconds_total`,
 * `nodejs_eventloop_lag_seconds`, `nodejs_heap_size_used_bytes`, ...) with their standard names, less three that
 * break Prometheus' naming rules. Register the service's own metrics in it and serve it with `metricsHandler` (or
 * `startHttpServer`'s `metrics` option). There is no constant label naming the service: Prometheus tells scrape
 * targets apart by their `job` and `instance` labels.
 */
export function createMetricsRegistry(): Registry {
  if (processMetrics === undefined) {
    processMetrics = new Registry();
    collectDefaultMetrics({ register: processMetrics });
    // Gauges named like counters, which `promtool check metrics` rejects; each is the sum of the gauge of the same
    // name without `_total` (by type), which stays.
    for (const name of lintFailures) processMetrics.removeSingleMetric(name);
  }
  // The same metric objects, registered again: the service's registry reads them at scrape time.
  return Registry.merge([processMetrics, new Registry()]);
}
