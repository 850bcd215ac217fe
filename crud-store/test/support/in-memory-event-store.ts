/**
 * An Event Store in memory behind the Crud Store core's port, for unit tests of the core without servers. It keeps
 * the rules the core relies on, as the real one does: versions are contiguous per originator and a taken one is a
 * VersionTakenError (the whole append then changes nothing), snapshots are found at or below a version, originators
 * are listed by the entity type of their first event, in id order, a page at a time.
 */
import { splitEventType } from "@eskit/client/event-type.js";
import { VersionTakenError } from "../../src/domain/errors.js";
import type {
  CallScope,
  EventStorePort,
  FollowedBatch,
  HistorySlice,
  NewEvent,
  OriginatorPage,
  StoredEvent,
  StoredSnapshot,
  VersionRange,
} from "../../src/store/event-store-port.js";

/** The Event Store's own limits that the core keeps to. */
const maxRanges = 1000;
const defaultListLimit = 100;
const maxListLimit = 1000;

/** The port's calls, by method, for tests that check what the core asked for. */
export interface PortCall {
  readonly method: keyof EventStorePort;
  readonly originatorId?: string;
  readonly fromVersion?: bigint;
}

/** An {@link EventStorePort} in memory. */
export class InMemoryEventStore implements EventStorePort {
  /** Every call, in order. */
  readonly calls: PortCall[] = [];
  private readonly histories = new Map<string, StoredEvent[]>();
  private readonly snapshotsById = new Map<string, StoredSnapshot[]>();
  private barrier: { size: number; waiting: Array<() => void> } | undefined;
  /** The Application Log: each appended event's originator and entity type, the id being the index + 1. */
  private readonly log: Array<{ originatorId: string; entityType: string }> = [];
  private readonly logWaiters = new Set<() => void>();

  /**
   * Holds the next `size` appends until all of them have arrived, then lets them run in the order they came: writers
   * that read the same version then race for it, whatever the interleaving of their reads.
   */
  holdAppends(size: number): void {
    this.barrier = { size, waiting: [] };
  }

  async append(events: readonly NewEvent[], scope: CallScope): Promise<void> {
    await this.enter("append", scope, events[0]?.originatorId);
    await this.passBarrier();
    const next = new Map<string, StoredEvent[]>();
    for (const event of events) {
      const history = next.get(event.originatorId) ?? [...(this.histories.get(event.originatorId) ?? [])];
      const at = BigInt(history.length);
      if (event.version <= at) {
        throw new VersionTakenError(
          `originator "${event.originatorId}" is at version ${at}: version ${event.version} was already written`,
        );
      }
      if (event.version > at + 1n) {
        throw new Error(
          `originator "${event.originatorId}" is at version ${at}: version ${event.version} leaves a gap`,
        );
      }
      history.push({ ...event, metadata: { ...event.metadata }, occurredOn: now() });
      next.set(event.originatorId, history);
    }
    for (const [id, history] of next) this.histories.set(id, history);
    for (const event of events) {
      this.log.push({ originatorId: event.originatorId, entityType: splitEventType(event.eventType).entityType });
    }
    for (const wake of this.logWaiters) wake();
  }

  async getHead(scope: CallScope): Promise<bigint> {
    await this.enter("getHead", scope);
    return BigInt(this.log.length);
  }

  async *followEntityType(entityType: string, fromId: bigint, signal: AbortSignal): AsyncIterable<FollowedBatch> {
    this.calls.push({ method: "followEntityType" });
    let next = Number(fromId) - 1;
    while (!signal.aborted) {
      const entries = this.log.slice(next).filter((e) => e.entityType === entityType);
      next = this.log.length;
      if (entries.length > 0) yield { originatorIds: entries.map((e) => e.originatorId) };
      if (this.log.length > next) continue; // appended while the consumer held the batch
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.logWaiters.delete(wake);
          signal.removeEventListener("abort", wake);
          resolve();
        };
        this.logWaiters.add(wake);
        signal.addEventListener("abort", wake, { once: true });
      });
    }
    signal.throwIfAborted();
  }

  async getEvents(originatorId: string, fromVersion: bigint, toVersion: bigint, scope: CallScope) {
    await this.enter("getEvents", scope, originatorId, fromVersion);
    return this.range({ originatorId, fromVersion, toVersion });
  }

  async readRange(range: VersionRange, scope: CallScope): Promise<HistorySlice> {
    const slice = this.slice(range);
    // Recorded with the version the events start from (after the snapshot), which is what tests look at.
    await this.enter("readRange", scope, range.originatorId, slice.events[0]?.version ?? range.fromVersion);
    return slice;
  }

  async batchGetEvents(ranges: readonly VersionRange[], scope: CallScope): Promise<HistorySlice[]> {
    await this.enter("batchGetEvents", scope);
    if (ranges.length > maxRanges) throw new Error(`${ranges.length} ranges: at most ${maxRanges}`);
    return ranges.map((range) => this.slice(range));
  }

  async saveSnapshot(originatorId: string, version: bigint, payload: string, scope: CallScope): Promise<void> {
    await this.enter("saveSnapshot", scope, originatorId);
    const at = this.versionOf(originatorId);
    if (version < 1n || version > at) {
      throw new Error(`originator "${originatorId}" is at version ${at}: no snapshot of version ${version}`);
    }
    const others = (this.snapshotsById.get(originatorId) ?? []).filter((s) => s.version !== version);
    this.snapshotsById.set(originatorId, [...others, { version, payload }]);
  }

  async listOriginators(
    entityType: string,
    afterId: string,
    limit: number,
    excludeLastAction: string,
    scope: CallScope,
  ): Promise<OriginatorPage> {
    await this.enter("listOriginators", scope);
    if (limit > maxListLimit) throw new Error(`limit is ${limit}: at most ${maxListLimit}`);
    const size = limit === 0 ? defaultListLimit : limit;
    const excluded = excludeLastAction === "" ? undefined : `${entityType}.${excludeLastAction}`;
    const originators = [...this.histories.entries()]
      .filter(([id, history]) => id > afterId && splitEventType(history[0]!.eventType).entityType === entityType)
      .filter(([, history]) => history.at(-1)!.eventType !== excluded)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .slice(0, size)
      .map(([id, history]) => ({ id, version: BigInt(history.length) }));
    return { originators, nextAfterId: originators.length === size ? originators.at(-1)!.id : "" };
  }

  /** The events kept for an originator, oldest first. */
  eventsOf(originatorId: string): readonly StoredEvent[] {
    return this.histories.get(originatorId) ?? [];
  }

  /** The versions of the snapshots kept for an originator, in ascending order. */
  snapshotVersionsOf(originatorId: string): bigint[] {
    return (this.snapshotsById.get(originatorId) ?? []).map((s) => s.version).sort((a, b) => (a < b ? -1 : 1));
  }

  /** Replaces a kept snapshot's payload, e.g. with one the core cannot read. */
  corruptSnapshot(originatorId: string, version: bigint, payload: string): void {
    const kept = this.snapshotsById.get(originatorId) ?? [];
    this.snapshotsById.set(originatorId, [...kept.filter((s) => s.version !== version), { version, payload }]);
  }

  /** As the real Event Store: the latest snapshot at or below toVersion (when asked), then the events after it. */
  private slice(range: VersionRange): HistorySlice {
    const snapshot =
      range.fromLatestSnapshot === true ? this.latestSnapshot(range.originatorId, range.toVersion) : undefined;
    const after = snapshot === undefined ? 0n : snapshot.version + 1n;
    const fromVersion = range.fromVersion > after ? range.fromVersion : after;
    return { snapshot, events: this.range({ ...range, fromVersion }) };
  }

  private latestSnapshot(originatorId: string, maxVersion: bigint): StoredSnapshot | undefined {
    const below = (this.snapshotsById.get(originatorId) ?? []).filter(
      (s) => maxVersion === 0n || s.version <= maxVersion,
    );
    return below.reduce<StoredSnapshot | undefined>(
      (a, s) => (a === undefined || s.version > a.version ? s : a),
      undefined,
    );
  }

  private range({ originatorId, fromVersion, toVersion }: VersionRange): StoredEvent[] {
    return this.eventsOf(originatorId).filter(
      (e) => e.version >= fromVersion && (toVersion === 0n || e.version <= toVersion),
    );
  }

  private versionOf(originatorId: string): bigint {
    return BigInt(this.eventsOf(originatorId).length);
  }

  /** Records the call, answers a cancelled caller as the real port would, and yields, so concurrent calls interleave. */
  private async enter(method: keyof EventStorePort, scope: CallScope, originatorId?: string, fromVersion?: bigint) {
    this.calls.push({ method, originatorId, fromVersion });
    scope.signal?.throwIfAborted();
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  private async passBarrier(): Promise<void> {
    const barrier = this.barrier;
    if (barrier === undefined) return;
    const arrived = new Promise<void>((resolve) => barrier.waiting.push(resolve));
    if (barrier.waiting.length === barrier.size) {
      this.barrier = undefined;
      for (const release of barrier.waiting) release();
    }
    await arrived;
  }
}

function now(): { seconds: bigint; nanos: number } {
  const ms = Date.now();
  return { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 };
}
