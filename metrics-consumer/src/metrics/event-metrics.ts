import { Counter, Histogram, type Registry } from "prom-client";
import type { EventLabels } from "./event-labels.js";
import { LabelGuard } from "./label-guard.js";

/**
 * Buckets of the event age, in seconds: milliseconds for a consumer that keeps up, up to a week for one catching up
 * on history (its first run reads events of any age, and they should land in a bucket that says so).
 */
const eventAgeBuckets = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21600, 86400, 604800,
];

/**
 * The counters of what flows through the Application Log. Both counters share one {@link LabelGuard} per label, so an
 * entity type folded into `other` is folded the same way in both and their series stay comparable.
 */
export class EventMetrics {
  private readonly storeEvents: Counter<"entity_type" | "event_type">;
  private readonly crudEvents: Counter<"entity_type" | "event_type">;
  private readonly eventAge: Histogram<"consumer_id">;
  private readonly entityTypes: LabelGuard;
  private readonly eventTypes: LabelGuard;

  constructor(
    registry: Registry,
    private readonly consumerId: string,
    maxLabelValues: number,
  ) {
    const registers = [registry];
    this.storeEvents = new Counter({
      name: "eskit_events_store_total",
      help: "Events seen on the Application Log, by entity type and event type (the action after the last dot).",
      labelNames: ["entity_type", "event_type"],
      registers,
    });
    this.crudEvents = new Counter({
      name: "eskit_events_crud_total",
      help: "Created, Updated and Deleted events of entity types registered in the Crud Store.",
      labelNames: ["entity_type", "event_type"],
      registers,
    });
    this.eventAge = new Histogram({
      name: "eskit_consumer_event_age_seconds",
      help: "Age of events when the consumer processed them: processing time minus occurred_on.",
      labelNames: ["consumer_id"],
      buckets: eventAgeBuckets,
      registers,
    });
    const overflow = new Counter({
      name: "eskit_metrics_label_overflow_total",
      help: 'Label values counted as "other" because the label already had ESKIT_METRICS_MAX_LABEL_VALUES distinct values.',
      labelNames: ["label"],
      registers,
    });
    this.entityTypes = new LabelGuard(maxLabelValues, () => overflow.inc({ label: "entity_type" }));
    this.eventTypes = new LabelGuard(maxLabelValues, () => overflow.inc({ label: "event_type" }));
    this.eventAge.zero({ consumer_id: consumerId });
  }

  /**
   * Counts one event. `crud` says whether it is a Created/Updated/Deleted event of a registered type; `ageSeconds`
   * is undefined for an event without occurred_on (then no age is observed).
   */
  count(labels: EventLabels, crud: boolean, ageSeconds: number | undefined): void {
    const guarded = {
      entity_type: this.entityTypes.admit(labels.entityType),
      event_type: this.eventTypes.admit(labels.eventType),
    };
    this.storeEvents.inc(guarded);
    if (crud) this.crudEvents.inc(guarded);
    // A clock behind the writer's would make ages negative; they count as "just now".
    if (ageSeconds !== undefined) this.eventAge.observe({ consumer_id: this.consumerId }, Math.max(0, ageSeconds));
  }
}
