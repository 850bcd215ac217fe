/** A point in time as protobuf has it, kept exactly (a JavaScript Date would drop the microseconds). */
export interface Instant {
  readonly seconds: bigint;
  readonly nanos: number;
}

/** An event as a client asks to append it. */
export interface NewEvent {
  readonly originatorId: string;
  readonly version: bigint;
  readonly eventType: string;
  readonly payload: string;
  readonly occurredOn?: Instant;
  readonly eventId?: string;
  readonly metadata: Readonly<Record<string, string>>;
}

/** An event as stored, and as every read returns it. */
export interface StoredEvent {
  readonly originatorId: string;
  readonly version: bigint;
  readonly eventType: string;
  readonly entityType: string;
  readonly action: string;
  readonly payload: string;
  readonly occurredOn: Instant;
  readonly eventId: string;
  readonly metadata: Readonly<Record<string, string>>;
}

/** One entry of the Application Log. */
export interface LogEntry {
  readonly id: bigint;
  readonly event: StoredEvent;
}

/** Now, as an Instant. */
export function now(): Instant {
  const ms = Date.now();
  return { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 };
}
