/**
 * `@eskit/client/projection-metrics.js`: projections' status as Prometheus metrics, for applications that use
 * prom-client (an optional peer dependency: the projection itself needs none).
 */
import { Counter, Gauge, type Registry } from "prom-client";
import type { ProjectionState, ProjectionStatus } from "./projection-status.js";

const states: readonly ProjectionState[] = ["starting", "waiting", "running", "stopped", "failed"];

/**
 * Registers on `registry` metrics read from each projection's `status()` at scrape time (so `projections` may be an
 * array the application adds to later), labelled `projection` with the projection's name:
 *
 * - `eskit_projection_position`: id of the last log entry applied.
 * - `eskit_projection_lag_events`: log head minus position; absent until the head is known.
 * - `eskit_projection_state{state}`: 1 for the instance's current state, 0 for the others (`waiting` = another
 *   instance holds the projection; `failed` = stopped by an error).
 * - `eskit_projection_applied_events_total`, `eskit_projection_retries_total`: entries this instance applied, and
 *   transient errors it retried (a lost database or Event Store connection, a serialization failure, a deadlock).
 * - `eskit_projection_failed_entry_id`: the first entry of the batch whose error stopped the projection, present only
 *   while it is stopped by one (alert on it: the projection will not move until the handler is fixed).
 *
 * Log ids are float64 in Prometheus: exact up to 2^53, as far as a log goes in practice.
 */
export function registerProjectionMetrics(
  registry: Registry,
  projections: Iterable<{ status(): ProjectionStatus }>,
): void {
  const each = (read: (status: ProjectionStatus) => void) => {
    for (const projection of projections) read(projection.status());
  };
  const gauge = (name: string, help: string, fill: (metric: Gauge<string>, status: ProjectionStatus) => void) => {
    const metric: Gauge<string> = new Gauge({
      name,
      help,
      labelNames: name === "eskit_projection_state" ? ["projection", "state"] : ["projection"],
      registers: [registry],
      collect: () => {
        metric.reset();
        each((status) => fill(metric, status));
      },
    });
  };
  const counter = (name: string, help: string, value: (status: ProjectionStatus) => number) => {
    const metric: Counter<"projection"> = new Counter({
      name,
      help,
      labelNames: ["projection"],
      registers: [registry],
      collect: () => {
        metric.reset();
        each((status) => metric.inc({ projection: status.name }, value(status)));
      },
    });
  };

  gauge("eskit_projection_position", "Id of the last Application Log entry the projection applied.", (m, s) =>
    m.set({ projection: s.name }, Number(s.position)),
  );
  gauge(
    "eskit_projection_lag_events",
    "Entries of the Application Log the projection has not passed yet: the log head minus its position.",
    (m, s) => {
      if (s.head > 0n) m.set({ projection: s.name }, Number(s.lag));
    },
  );
  gauge("eskit_projection_state", "1 for the projection instance's current state, 0 for the others.", (m, s) => {
    for (const state of states) m.set({ projection: s.name, state }, state === s.state ? 1 : 0);
  });
  gauge(
    "eskit_projection_failed_entry_id",
    "First entry of the batch whose error stopped the projection; present only while stopped by one.",
    (m, s) => {
      if (s.state === "failed" && s.lastError !== undefined && !s.lastError.transient && s.lastError.entryId > 0n) {
        m.set({ projection: s.name }, Number(s.lastError.entryId));
      }
    },
  );
  counter("eskit_projection_applied_events_total", "Entries this projection instance applied.", (s) => s.applied);
  counter(
    "eskit_projection_retries_total",
    "Transient errors the projection retried: a lost database or Event Store connection, a serialization failure, a deadlock.",
    (s) => s.retries,
  );
}
