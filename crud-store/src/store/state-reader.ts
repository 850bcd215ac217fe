import type { Logger } from "@eskit/server-kit/logger.js";
import { NotFoundError } from "../domain/errors.js";
import type { JsonObject } from "../domain/json-document.js";
import { type DocumentState, replay, type StoredChange } from "../domain/replay.js";
import { entityTypeOfEvent, toStoredChange } from "./event-codec.js";
import type {
  CallScope,
  EventStorePort,
  HistorySlice,
  Instant,
  StoredEvent,
  VersionRange,
} from "./event-store-port.js";

/** Events per BatchGetEvents call (the Event Store allows 100,000). */
const maxEventsPerBatch = 50_000n;

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
   * The states of many documents, each right after its version (a List page), read together: one call to the Event
   * Store per ~50,000 events, each document from its latest snapshot at or below its version. NotFoundError as in
   * {@link read}.
   */
  async readMany(
    entityType: string,
    refs: ReadonlyArray<{ id: string; version: bigint }>,
    scope: CallScope,
  ): Promise<DocumentState[]> {
    const states = new Array<DocumentState>(refs.length);
    const every = BigInt(this.snapshotEvery);
    // Events a document should replay: those after its latest snapshot, at most snapshotEvery of them.
    const expectedEvents = (i: number) => (every > 0n && refs[i]!.version > every ? every : refs[i]!.version);
    const indexes = refs.map((_, i) => i);
    for (const chunk of chunksByEvents(indexes, expectedEvents, maxEventsPerBatch)) {
      const ranges = chunk.map((i) => this.rangeOfVersion(refs[i]!.id, refs[i]!.version));
      const slices = await this.eventStore.batchGetEvents(ranges, scope);
      const unread: number[] = [];
      chunk.forEach((i, k) => {
        const { id, version } = refs[i]!;
        const range = this.historyOf(entityType, id, slices[k] ?? { snapshot: undefined, events: [] });
        if (range === undefined) unread.push(i);
        else states[i] = this.checked(entityType, id, version, replay(range.start, range.changes));
      });
      // Documents whose snapshot could not be read: again from their first event, one by one (this is rare).
      for (const i of unread) states[i] = await this.read(entityType, refs[i]!.id, refs[i]!.version, scope);
    }
    return states;
  }

  /**
   * The history from the latest snapshot at or below `snapshotAtOrBelow` (undefined: the latest snapshot; 0n: none,
   * from the first event) up to `toVersion` (0 = the latest), in one call to the Event Store. NotFoundError when the
   * id is unknown or of another entity type.
   */
  async range(
    entityType: string,
    id: string,
    snapshotAtOrBelow: bigint | undefined,
    toVersion: bigint,
    scope: CallScope,
  ): Promise<HistoryRange> {
    if (snapshotAtOrBelow !== 0n) {
      const upTo = snapshotAtOrBelow ?? toVersion;
      const range = this.rangeOfVersion(id, upTo);
      // A page of revisions starts from a snapshot at or below its first version, and reads on to its last.
      const [slice, rest] = await Promise.all([
        this.eventStore.readRange(range, scope),
        upTo === toVersion ? [] : this.eventStore.getEvents(id, upTo + 1n, toVersion, scope),
      ]);
      const history = this.historyOf(entityType, id, { snapshot: slice.snapshot, events: [...slice.events, ...rest] });
      if (history !== undefined) return history;
    }
    const slice = await this.eventStore.readRange({ originatorId: id, fromVersion: 1n, toVersion }, scope);
    return this.historyOf(entityType, id, slice)!;
  }

  /**
   * The range that reads a document up to `toVersion` (0 = the latest) from its latest snapshot at or below it.
   * Below the first snapshot version there is none to find (snapshots are kept at multiples of snapshotEvery, or by
   * readers past that many events), so the Event Store is not asked to look.
   */
  private rangeOfVersion(id: string, toVersion: bigint): VersionRange {
    const fromLatestSnapshot = this.snapshotEvery > 0 && (toVersion === 0n || toVersion >= BigInt(this.snapshotEvery));
    return { originatorId: id, fromVersion: 1n, toVersion, fromLatestSnapshot };
  }

  /** The history a slice holds; undefined when its snapshot cannot be read (the events then lack their start). */
  private historyOf(entityType: string, id: string, slice: HistorySlice): HistoryRange | undefined {
    const snapshot = slice.snapshot;
    if (snapshot === undefined) return this.rangeOf(entityType, id, undefined, slice.events);
    const start = this.parseSnapshot(id, snapshot.version, snapshot.payload);
    if (start === undefined) return undefined;
    if (start.entityType !== entityType) throw new NotFoundError(`no ${entityType} with id "${id}"`);
    return this.rangeOf(entityType, id, start.state, slice.events);
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
