import type { Event } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import type { EventLabels } from "../metrics/event-labels.js";

/**
 * The entity type under which the Crud Store records its type registry as events (originator
 * `eskit.crudstore.type:<entity type>`, events `.Registered` then `.Updated`, payload `{"entityType": ...}`).
 */
const registryEntityType = "eskit.crudstore.EntityType";
const registryIdPrefix = "eskit.crudstore.type:";

/** The actions of the Crud Store's document events. */
const crudActions: ReadonlySet<string> = new Set(["Created", "Updated", "Deleted"]);

/**
 * The entity types registered in the Crud Store, cached for the life of the process: it is filled once from the
 * Crud Store's `ListTypes` before the log is consumed, then kept current from the registry's own events as they
 * pass on the log, so deciding whether an event is a Crud Store event never costs a call. Types are never
 * unregistered, so the set only grows.
 */
export class CrudTypes {
  private readonly types = new Set<string>();

  constructor(initial: Iterable<string> = []) {
    for (const type of initial) this.types.add(type);
  }

  /**
   * Learns a type from a registry event on the log. Returns the type when the event registered (or updated) one,
   * so the caller can log it. The payload names the type; the originator id does too, and is used when the payload
   * cannot be read.
   */
  observe(event: Event): string | undefined {
    if (!event.eventType.startsWith(`${registryEntityType}.`)) return undefined;
    const type = entityTypeOfRecord(event);
    if (type === undefined) return undefined;
    this.types.add(type);
    return type;
  }

  /** Whether an event is a Created, Updated or Deleted event of a registered type. */
  isCrudEvent(labels: EventLabels): boolean {
    return crudActions.has(labels.eventType) && this.types.has(labels.entityType);
  }

  has(entityType: string): boolean {
    return this.types.has(entityType);
  }

  get size(): number {
    return this.types.size;
  }
}

function entityTypeOfRecord(event: Event): string | undefined {
  try {
    const payload = JSON.parse(event.payload) as { entityType?: unknown };
    if (typeof payload.entityType === "string" && payload.entityType !== "") return payload.entityType;
  } catch {
    // Fall through to the originator id, which names the type as well.
  }
  const id = event.originator?.id ?? "";
  return id.startsWith(registryIdPrefix) && id.length > registryIdPrefix.length
    ? id.slice(registryIdPrefix.length)
    : undefined;
}
