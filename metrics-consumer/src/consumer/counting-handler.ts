import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { AppLogEntry } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import type { Logger } from "@eskit/server-kit/logger.js";
import { eventLabels } from "../metrics/event-labels.js";
import type { EventMetrics } from "../metrics/event-metrics.js";
import type { PositionMetrics } from "../metrics/position-metrics.js";
import type { CrudTypes } from "./crud-types.js";

/** What {@link countingHandler} records into. */
export interface CountingHandlerDeps {
  readonly types: CrudTypes;
  readonly events: EventMetrics;
  readonly position: PositionMetrics;
  readonly logger: Logger;
  /** The clock the event age is measured with (ms since the epoch). */
  readonly now?: () => number;
}

/**
 * The consumer's handler: counts one Application Log entry. It never throws and never waits, so the consumer saves
 * offsets at its own rhythm and a strange event (no occurred_on, an unreadable registry record) is still counted.
 * A registry event is applied before it is counted, so the type's own Created event, which can only come after it
 * in the log, already counts as a Crud Store event.
 */
export function countingHandler(deps: CountingHandlerDeps): (entry: AppLogEntry) => void {
  const now = deps.now ?? Date.now;
  return (entry) => {
    const event = entry.event;
    if (event !== undefined) {
      const learned = deps.types.observe(event);
      if (learned !== undefined)
        deps.logger.debug("crud type seen on the log", { entity_type: learned, log_id: entry.id });
      const labels = eventLabels(event.eventType);
      const age = event.occurredOn === undefined ? undefined : (now() - timestampMs(event.occurredOn)) / 1000;
      deps.events.count(labels, deps.types.isCrudEvent(labels), age);
    }
    deps.position.processed(entry.id);
  };
}
