/**
 * Appends for the consumer examples' tests: events of several entity types over several originators each, in
 * requests of one to six events, so that a selector picks some entries and the log interleaves the rest.
 */
import type { AppLogEntry, EventStoreClient, NewEvent } from "@eskit/client";

/** A small seeded generator (mulberry32), so that a failing run can be repeated with ESKIT_TEST_SEED. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Appends events of `types` (entity types) to `originatorsPerType` originators of each, keeping their versions. */
export class Workload {
  private readonly versions = new Map<string, bigint>();
  private sequence = 0;
  /** Log ids the store acknowledged, by entity type. */
  readonly acked = new Map<string, bigint[]>();

  constructor(
    private readonly client: EventStoreClient,
    private readonly types: readonly string[],
    private readonly random: () => number,
    private readonly originatorsPerType = 4,
  ) {}

  /** Appends `count` events in requests of 1–6; an append the restarting store missed is retried as the same one. */
  async append(count: number): Promise<void> {
    for (let left = count; left > 0;) {
      const size = Math.min(left, 1 + Math.floor(this.random() * 6));
      await this.appendRequest(size);
      left -= size;
    }
  }

  /** Sends one request of `size` events; resolves once the store acknowledged it. */
  async appendRequest(size: number): Promise<void> {
    const events: NewEvent[] = [];
    const types: string[] = [];
    for (let i = 0; i < size; i++) {
      const type = this.types[Math.floor(this.random() * this.types.length)]!;
      const originatorId = `${type.toLowerCase()}-${Math.floor(this.random() * this.originatorsPerType)}`;
      const version = (this.versions.get(originatorId) ?? 0n) + 1n;
      this.versions.set(originatorId, version);
      const seq = ++this.sequence;
      events.push({
        originatorId,
        version,
        eventType: `${type}.${version === 1n ? "Created" : "Changed"}`,
        // Text beyond ASCII, so an example that mangles encodings shows up.
        payload: { seq, note: "été ✓" },
        metadata: seq % 3 === 0 ? { source: "examples-test" } : undefined,
      });
      types.push(type);
    }
    // Retried with the same event ids (appendEvents makes them) through a restart of the store: a request that was
    // stored though its answer was lost is answered with its original log ids, never stored twice.
    const logIds = await this.client.appendEvents(events, {
      retries: 200,
      backoff: { initialDelayMs: 50, maxDelayMs: 300 },
      timeoutMs: 5000,
    });
    logIds.forEach((id, i) => {
      const list = this.acked.get(types[i]!) ?? [];
      list.push(id);
      this.acked.set(types[i]!, list);
    });
  }
}

/** Appends in the background, one request after another, until stopped. */
export interface BackgroundWriter {
  /** Events acknowledged so far. */
  readonly events: () => number;
  /** Resolves once `count` more events than now were acknowledged. */
  waitForMore(count: number, timeoutMs?: number): Promise<void>;
  /** Stops after the request in flight; rejects with the writer's error if it failed. */
  stop(): Promise<void>;
}

/** Starts appending `workload` requests of 1–4 events every few milliseconds. */
export function startWriter(workload: Workload, random: () => number): BackgroundWriter {
  let stopped = false;
  let events = 0;
  let failure: unknown;
  const done = (async () => {
    try {
      while (!stopped) {
        const size = 1 + Math.floor(random() * 4);
        await workload.appendRequest(size);
        events += size;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    } catch (error) {
      failure = error;
    }
  })();
  return {
    events: () => events,
    async waitForMore(count, timeoutMs = 60_000) {
      const target = events + count;
      const deadline = Date.now() + timeoutMs;
      while (events < target) {
        if (failure !== undefined) throw failure;
        if (Date.now() > deadline) throw new Error(`the writer did not append ${count} events in ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async stop() {
      stopped = true;
      await done;
      if (failure !== undefined) throw failure;
    },
  };
}

/** Every entry of the log passing `selector` from `fromId` on, read page by page: what a consumer must deliver. */
export async function readLog(client: EventStoreClient, selector: string, fromId = 0n): Promise<AppLogEntry[]> {
  const entries: AppLogEntry[] = [];
  for await (const page of client.pageLogs({ selector, fromId, size: 1000 })) entries.push(...page.entries);
  return entries;
}
