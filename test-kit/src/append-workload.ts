/**
 * A concurrent append workload for e2e tests: several writers, each on its own client, append single- and
 * multi-event requests to private originators and to a few "hot" originators they all contend for, retrying on
 * `aborted` the way an application does. It records exactly what the store acknowledged and what it refused, so a
 * test can check the log and the originators' histories against it.
 */
import { randomUUID } from "node:crypto";
import { Code, ConnectError, type EventStoreClient, type NewEvent } from "@eskit/client";

/** One event the store acknowledged, with the log id its Append response gave. */
export interface AckedEvent {
  readonly eventId: string;
  readonly logId: bigint;
  readonly originatorId: string;
  readonly version: bigint;
  readonly eventType: string;
  readonly payload: string;
}

/** Everything a workload did, as seen by its writers. */
export interface WorkloadResult {
  /** Acknowledged events by event_id. */
  readonly acked: Map<string, AckedEvent>;
  /** event_ids of every event of a refused request (`aborted` or `failed_precondition`). */
  readonly rejectedEventIds: Set<string>;
  /** Requests refused with `aborted` (another writer had taken the version). */
  conflicts: number;
  /** Deliberate version gaps refused with `failed_precondition`. */
  gapsRefused: number;
  /** `aborted` answers after which GetEvents showed nothing newer: the store refused a valid version. */
  spuriousConflicts: number;
  /** Append requests sent, including refused ones. */
  requests: number;
}

/** Options of {@link runAppendWorkload}. */
export interface WorkloadOptions {
  /** One client per writer; give each its own transport so writers use separate connections. */
  readonly clients: readonly EventStoreClient[];
  /** Each writer stops once this many of its events were acknowledged (a last request may go a little over). */
  readonly eventsPerWriter: number;
  /** Prefix of every originator id, so several workloads can share a database. */
  readonly prefix: string;
  /** Originators every writer appends to. */
  readonly hotOriginators?: number;
  /** Seeds the writers' choices, so a failing run can be repeated. */
  readonly seed: number;
}

const privateOriginatorsPerWriter = 3;
// A writer that loses this many times in a row on one request is starved; the test should say so, not hang.
const maxAttemptsPerRequest = 200;

/** Runs every writer to completion; rejects on the first unexpected error. */
export async function runAppendWorkload(options: WorkloadOptions): Promise<WorkloadResult> {
  const result: WorkloadResult = {
    acked: new Map(),
    rejectedEventIds: new Set(),
    conflicts: 0,
    gapsRefused: 0,
    spuriousConflicts: 0,
    requests: 0,
  };
  const hot = Array.from({ length: options.hotOriginators ?? 3 }, (_, k) => `${options.prefix}-hot-${k}`);
  await Promise.all(options.clients.map((client, w) => runWriter(client, w, hot, options, result)));
  return result;
}

interface Part {
  readonly originatorId: string;
  readonly count: number;
}

async function runWriter(
  client: EventStoreClient,
  writer: number,
  hot: readonly string[],
  options: WorkloadOptions,
  result: WorkloadResult,
): Promise<void> {
  const random = mulberry32(options.seed * 1000 + writer);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const between = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const own = Array.from({ length: privateOriginatorsPerWriter }, (_, k) => `${options.prefix}-w${writer}-p${k}`);
  // What this writer believes each originator's current version is; for hot ones it goes stale.
  const known = new Map<string, bigint>();
  let written = 0;
  let sequence = 0;

  while (written < options.eventsPerWriter) {
    const roll = random();
    let parts: Part[];
    let gap = false;
    if (roll < 0.3) parts = [{ originatorId: pick(own), count: 1 }];
    else if (roll < 0.5) parts = [{ originatorId: pick(hot), count: 1 }];
    else if (roll < 0.85)
      parts = distinct(own, between(1, 3), random).map((id) => ({ originatorId: id, count: between(2, 6) }));
    else if (roll < 0.95) {
      parts = [
        { originatorId: pick(hot), count: between(1, 3) },
        { originatorId: pick(own), count: between(2, 6) },
      ];
    } else {
      parts = [{ originatorId: pick(own), count: between(1, 2) }];
      gap = true;
    }

    for (let attempt = 1; ; attempt++) {
      if (attempt > maxAttemptsPerRequest) {
        throw new Error(`writer ${writer} lost ${maxAttemptsPerRequest} times in a row on ${JSON.stringify(parts)}`);
      }
      const events: NewEvent[] = parts.flatMap((part) => {
        const first = (known.get(part.originatorId) ?? 0n) + (gap ? 2n : 1n);
        return Array.from({ length: part.count }, (_, i) => ({
          originatorId: part.originatorId,
          version: first + BigInt(i),
          eventType: part.originatorId.includes("-hot-") ? "Counter.Incremented" : "Account.Deposited",
          // Varied bytes (non-ASCII, spacing) so a byte-for-byte comparison means something.
          payload: `{"writer":${writer}, "n":${sequence++},"note":"é✓ ${attempt}"}`,
          eventId: randomUUID(),
        }));
      });
      result.requests++;
      try {
        const logIds = await client.appendEvents(events);
        if (logIds.length !== events.length) {
          throw new Error(`Append answered ${logIds.length} log ids for ${events.length} events`);
        }
        if (gap) throw new Error(`Append accepted a version gap: ${JSON.stringify(events, bigintJson)}`);
        events.forEach((event, i) => {
          result.acked.set(event.eventId!, {
            eventId: event.eventId!,
            logId: logIds[i]!,
            originatorId: event.originatorId,
            version: event.version,
            eventType: event.eventType,
            payload: event.payload as string,
          });
          known.set(event.originatorId, event.version);
        });
        written += events.length;
        break;
      } catch (error) {
        const code = ConnectError.from(error).code;
        for (const event of events) result.rejectedEventIds.add(event.eventId!);
        if (gap && code === Code.FailedPrecondition) {
          result.gapsRefused++;
          break;
        }
        if (code !== Code.Aborted || gap) throw error;
        result.conflicts++;
        // Only the hot originators can have moved under us; read what the others wrote and try again on top of it.
        let moved = false;
        for (const part of parts.filter((p) => hot.includes(p.originatorId))) {
          const before = known.get(part.originatorId) ?? 0n;
          const newer = await client.readEvents(part.originatorId, { fromVersion: before + 1n });
          if (newer.length > 0) {
            known.set(part.originatorId, newer.at(-1)!.originator!.version);
            moved = true;
          }
        }
        if (!moved) result.spuriousConflicts++;
      }
    }
  }
}

function distinct<T>(items: readonly T[], n: number, random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy.slice(0, n);
}

/** A small seeded PRNG (mulberry32): the same seed gives the same writer choices. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** For JSON.stringify of values holding bigints. */
export function bigintJson(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}
