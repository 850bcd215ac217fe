/**
 * The port through which the Crud Store's core (store/ and registry/) keeps its documents: what it needs of an Event
 * Store, in the core's own types. gateway/event-store-gateway.ts implements it over the Event Store's RPC API; tests
 * use an in-memory one. The core thus knows neither Connect nor the generated messages, and every import points inward.
 */

/** Where a call belongs: the caller's cancellation and deadline travel with it. */
export interface CallScope {
  readonly signal?: AbortSignal;
  /** What is left of the caller's deadline, in ms; undefined when the caller set none. */
  readonly timeoutMs?: number;
}

/** A point in time as the Event Store records it (seconds since the Unix epoch, plus nanoseconds). */
export interface Instant {
  readonly seconds: bigint;
  readonly nanos: number;
}

/** An event to append, before the Event Store gives it an id and a time. */
export interface NewEvent {
  readonly originatorId: string;
  readonly version: bigint;
  readonly eventType: string;
  readonly payload: string;
  readonly metadata: Readonly<Record<string, string>>;
}

/** An event as the Event Store keeps it: what was appended, and when. */
export interface StoredEvent extends NewEvent {
  /** Undefined only when the Event Store sent no time. */
  readonly occurredOn: Instant | undefined;
}

/** A snapshot as the Event Store keeps it. */
export interface StoredSnapshot {
  readonly version: bigint;
  readonly payload: string;
}

/** An originator and the version of its latest event. */
export interface OriginatorSummary {
  readonly id: string;
  readonly version: bigint;
}

/** One page of originators, and where the next one starts ("" when this is the last). */
export interface OriginatorPage {
  readonly originators: readonly OriginatorSummary[];
  readonly nextAfterId: string;
}

/**
 * An originator's events from `fromVersion` to `toVersion` (0 = the latest). With `fromLatestSnapshot`, the latest
 * snapshot at or below `toVersion` (any, when 0) comes too, and the events start right after it (or at `fromVersion`,
 * if that is later).
 */
export interface VersionRange {
  readonly originatorId: string;
  readonly fromVersion: bigint;
  readonly toVersion: bigint;
  readonly fromLatestSnapshot?: boolean;
}

/** What a range reads: the snapshot the events follow (when asked for and there is one), and the events. */
export interface HistorySlice {
  readonly snapshot: StoredSnapshot | undefined;
  readonly events: StoredEvent[];
}

/** One message of a followed log: the originators of the entries it carried (none for a heartbeat). */
export interface FollowedBatch {
  readonly originatorIds: readonly string[];
}

/**
 * What the core asks of the Event Store. Errors the core acts on are domain errors (a version already taken is a
 * VersionTakenError; a missing snapshot is `undefined`); any other failure (the Event Store unreachable, a deadline
 * passed) is passed through as it is, for the edge to answer.
 */
export interface EventStorePort {
  /** Appends all events atomically; VersionTakenError when one's version is already taken. */
  append(events: readonly NewEvent[], scope: CallScope): Promise<void>;
  /** An originator's events from `fromVersion` to `toVersion` (0 = the latest), in version order. */
  getEvents(originatorId: string, fromVersion: bigint, toVersion: bigint, scope: CallScope): Promise<StoredEvent[]>;
  /** One range, in one call: a state read is its latest snapshot and the events after it. */
  readRange(range: VersionRange, scope: CallScope): Promise<HistorySlice>;
  /** Many ranges in one call, one slice per range in request order (at most 1000 ranges). */
  batchGetEvents(ranges: readonly VersionRange[], scope: CallScope): Promise<HistorySlice[]>;
  /** Keeps a snapshot of an originator at a version it has reached. */
  saveSnapshot(originatorId: string, version: bigint, payload: string, scope: CallScope): Promise<void>;
  /**
   * One page of the originators whose first event is of `entityType`, in id order after `afterId`, skipping those
   * whose latest event's action is `excludeLastAction` ("" = none).
   */
  listOriginators(
    entityType: string,
    afterId: string,
    limit: number,
    excludeLastAction: string,
    scope: CallScope,
  ): Promise<OriginatorPage>;
  /** The id of the latest entry of the Application Log (0 while it is empty). */
  getHead(scope: CallScope): Promise<bigint>;
  /**
   * The Application Log's entries of one entity type from `fromId` on, as they commit (LogsPoll): one batch per
   * message, an empty one for a heartbeat. It ends only by `signal` or by an error (the connection lost).
   */
  followEntityType(entityType: string, fromId: bigint, signal: AbortSignal): AsyncIterable<FollowedBatch>;
}
