import type { Logger } from "@eskit/server-kit/logger.js";
import { NotFoundError } from "../domain/errors.js";
import type { JsonObject } from "../domain/json-document.js";
import { type DocumentState, replay, type StoredChange } from "../domain/replay.js";
import { entityTypeOfEvent, toStoredChange } from "./event-codec.js";
import type { CallScope, EventStorePort, Instant, StoredEvent } from "./event-store-port.js";
import { mapConcurrently } from "./map-concurrently.js";

/** Events per BatchGetEvents call (the Event Store allows 100,000). */
const maxEventsPerBatch = 50_000n;
/** Documents read one by one at once: enough to hide the round trips, few enough not to flood the Event Store. */
const singleReadConcurrency = 16;

/** A stretch of a document's history: the state it starts from (a snapshot, or nothing) and the changes after it. */
export interface HistoryRange {
  readonly start: DocumentState | undefined;
  readonly changes: readonly StoredChange[];
  /** When each change happened, by version. */
  readonly occurredOn: ReadonlyMap<bigint, Instant | undefined>;
}

/** How a snapshot's payload reads: the state plus the entity type, so a read of another type is refused. */
interface SnapshotPayload {
  entityType: string;
  deleted: boolean;
  document: JsonObject;
}

/**
 * Reads documents' states from the Event Store: from the latest snapshot at or below the wanted version, then the
 * events after it. Snapshots are kept every `snapshotEvery` versions (by writers, and by readers that had to replay
 * that many events), so reading the latest version costs the same whatever the length of the history.
 */
export class StateReader {
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly eventStore: EventStorePort,
    readonly snapshotEvery: number,
    private readonly logger: Logger,
  ) {}

  /** The state right after `version` (0 = the latest); NotFoundError when there is no such document or version. */
  async read(entityType: string, id: string, version: bigint, scope: CallScope): Promise<DocumentState> {
    const range = await this.range(entityType, id, version === 0n ? undefined : version, version, scope);
    const state = this.checked(entityType, id, version, replay(range.start, range.changes));
    if (version === 0n && this.snapshotEvery > 0 && range.changes.length >= this.snapshotEvery) {
      this.saveInBackground(entityType, id, state);
    }
    return state;
  }

  /**
   * The states of many documents, each right after its version (a List page). Documents below the first snapshot
   * version are read together in one call to the Event Store (at most ~50,000 events per call); the others one by
   * one from their snapshots. NotFoundError as in {@link read}.
   */
  async readMany(
    entityType: string,
    refs: ReadonlyArray<{ id: string; version: bigint }>,
    scope: CallScope,
  ): Promise<DocumentState[]> {
    const states = new Array<DocumentState>(refs.length);
    const batch: number[] = [];
    const single: number[] = [];
    refs.forEach((ref, i) =>
      (this.snapshotEvery > 0 && ref.version >= BigInt(this.snapshotEvery) ? single : batch).push(i),
    );
    for (const chunk of chunksByEvents(batch, (i) => refs[i]!.version, maxEventsPerBatch)) {
      const ranges = chunk.map((i) => ({ originatorId: refs[i]!.id, fromVersion: 1n, toVersion: refs[i]!.version }));
      const results = await this.eventStore.batchGetEvents(ranges, scope);
      chunk.forEach((i, k) => {
        const { id, version } = refs[i]!;
        states[i] = this.stateOf(entityType, id, version, undefined, results[k] ?? []);
      });
    }
    await mapConcurrently(single, singleReadConcurrency, async (i) => {
      states[i] = await this.read(entityType, refs[i]!.id, refs[i]!.version, scope);
    });
    return states;
  }

  /**
   * The history from the latest snapshot at or below `snapshotAtOrBelow` (undefined: the latest snapshot; 0n: none,
   * from the first event) up to `toVersion` (0 = the latest). NotFoundError when the id is unknown or of another entity type.
   */
  async range(
    entityType: string,
    id: string,
    snapshotAtOrBelow: bigint | undefined,
    toVersion: bigint,
    scope: CallScope,
  ): Promise<HistoryRange> {
    // Below the first snapshot version there is none to find (snapshots are kept at multiples of snapshotEvery, or
    // by readers past that many events): skip the round trip, which List pays per document.
    const useSnapshot =
      this.snapshotEvery > 0 &&
      snapshotAtOrBelow !== 0n &&
      (snapshotAtOrBelow === undefined || snapshotAtOrBelow >= BigInt(this.snapshotEvery));
    const snapshot = useSnapshot ? await this.eventStore.getSnapshot(id, snapshotAtOrBelow ?? 0n, scope) : undefined;
    const start = snapshot === undefined ? undefined : this.parseSnapshot(id, snapshot.version, snapshot.payload);
    if (start !== undefined && start.entityType !== entityType)
      throw new NotFoundError(`no ${entityType} with id "${id}"`);
    const fromVersion = (start?.state.version ?? 0n) + 1n;
    const events =
      toVersion !== 0n && fromVersion > toVersion
        ? []
        : await this.eventStore.getEvents(id, fromVersion, toVersion, scope);
    return this.rangeOf(entityType, id, start?.state, events);
  }

  private rangeOf(
    entityType: string,
    id: string,
    start: DocumentState | undefined,
    events: readonly StoredEvent[],
  ): HistoryRange {
    const first = events[0];
    if (start === undefined && first !== undefined && entityTypeOfEvent(first) !== entityType) {
      throw new NotFoundError(`no ${entityType} with id "${id}"`);
    }
    return {
      start,
      changes: events.map((event) => toStoredChange(event, entityType)),
      occurredOn: new Map(events.map((event) => [event.version, event.occurredOn])),
    };
  }

  private stateOf(
    entityType: string,
    id: string,
    version: bigint,
    start: DocumentState | undefined,
    events: readonly StoredEvent[],
  ): DocumentState {
    const range = this.rangeOf(entityType, id, start, events);
    return this.checked(entityType, id, version, replay(range.start, range.changes));
  }

  private checked(entityType: string, id: string, version: bigint, state: DocumentState | undefined): DocumentState {
    if (state === undefined) throw new NotFoundError(`no ${entityType} with id "${id}"`);
    if (version !== 0n && state.version !== version) {
      throw new NotFoundError(`${entityType} "${id}" has no version ${version}: its latest is ${state.version}`);
    }
    return state;
  }

  /** Keeps a snapshot of `state` when its version is a multiple of `snapshotEvery`; failures only cost speed. */
  async saveIfDue(entityType: string, id: string, state: DocumentState, scope: CallScope): Promise<void> {
    if (this.snapshotEvery === 0 || state.version % BigInt(this.snapshotEvery) !== 0n) return;
    await this.save(entityType, id, state, scope);
  }

  /** Waits for snapshots still being saved in the background. */
  async drain(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  private saveInBackground(entityType: string, id: string, state: DocumentState): void {
    const saving = this.save(entityType, id, state, {}).finally(() => this.pending.delete(saving));
    this.pending.add(saving);
  }

  private async save(entityType: string, id: string, state: DocumentState, scope: CallScope): Promise<void> {
    const payload: SnapshotPayload = { entityType, deleted: state.deleted, document: state.document };
    try {
      await this.eventStore.saveSnapshot(id, state.version, JSON.stringify(payload), scope);
    } catch (error) {
      this.logger.warn("saving a snapshot failed", {
        originator_id: id,
        version: String(state.version),
        error: String(error),
      });
    }
  }

  private parseSnapshot(
    id: string,
    version: bigint,
    payload: string,
  ): { entityType: string; state: DocumentState } | undefined {
    try {
      const parsed = JSON.parse(payload) as Partial<SnapshotPayload>;
      const document = parsed.document;
      if (typeof parsed.entityType === "string" && typeof parsed.deleted === "boolean" && isObject(document)) {
        return { entityType: parsed.entityType, state: { version, deleted: parsed.deleted, document } };
      }
    } catch {
      // Reported below: an unreadable snapshot is skipped, the events alone give the same state.
    }
    this.logger.warn("ignoring an unreadable snapshot", { originator_id: id, version: String(version) });
    return undefined;
  }
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `items` in order, cut into chunks of at most 1000 items whose `size` adds up to at most `max` (one item may exceed it alone). */
function* chunksByEvents<T>(items: readonly T[], size: (item: T) => bigint, max: bigint): Generator<T[]> {
  let chunk: T[] = [];
  let total = 0n;
  for (const item of items) {
    if (chunk.length > 0 && (total + size(item) > max || chunk.length === 1000)) {
      yield chunk;
      chunk = [];
      total = 0n;
    }
    chunk.push(item);
    total += size(item);
  }
  if (chunk.length > 0) yield chunk;
}
