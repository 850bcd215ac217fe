import { backoffCeiling, sleep } from "@eskit/client/backoff.js";
import type { Logger } from "@eskit/server-kit/logger.js";
import { registryEntityType, registryIdPrefix } from "../domain/names.js";
import type { EventStorePort } from "../store/event-store-port.js";
import type { TypeSpec } from "./type-registry.js";

/** How the cache of the type registry behaves; see docs/configuration.md (ESKIT_TYPE_CACHE_*). */
export interface TypeCacheOptions {
  /**
   * The longest a cached type is used, in ms: the bound on how stale a replica's view of a schema can be even if its
   * follower of the log stalls unnoticed. 0 turns the cache off (every write reads the registry).
   */
  readonly maxAgeMs: number;
  /** Most types kept; the oldest filled goes first. */
  readonly maxEntries: number;
  /**
   * With no message (entries or heartbeat) on the followed log for this long, in ms, the follower is taken for dead:
   * the cache empties and stays off until a new follower is caught up.
   */
  readonly silenceMs: number;
  /** Wait before following again after the follower failed, in ms (doubling up to 16×). */
  readonly retryMs: number;
}

/** A type as cached: its spec (undefined: not registered), and when the read that found it began. */
interface Entry {
  readonly spec: TypeSpec | undefined;
  readonly readAt: number;
}

/**
 * The Crud Store's cache of the type registry, so that a write does not read the registry from the Event Store each
 * time. Every replica follows the registry's own events on the Application Log (LogsPoll of its entity type) and drops
 * a type as soon as a change to it arrives, so a schema registered on one replica is enforced by the others within
 * milliseconds. Three guards keep a stale schema from outliving that:
 *
 * - The cache is used only while the follower is live: it starts from the log's head read before, so any change
 *   committed later reaches it; when it fails or falls silent, the cache empties and reads go to the Event Store.
 * - A read that began before an invalidation (the generation counts them) is not cached: it may have seen the old spec.
 * - An entry is used for at most `maxAgeMs` from the start of the read that filled it, whatever the follower does.
 */
export class TypeCache {
  private readonly entries = new Map<string, Entry>();
  /** Bumped by every invalidation, and whenever the follower starts or stops. */
  private generation = 0;
  private live = false;
  private readonly stopping = new AbortController();
  private running: Promise<void> | undefined;

  constructor(
    private readonly eventStore: EventStorePort,
    private readonly options: TypeCacheOptions,
    private readonly logger: Logger,
  ) {}

  /** Starts following the log (in the background, until {@link stop}); does nothing when the cache is off. */
  start(): void {
    if (this.options.maxAgeMs === 0 || this.running !== undefined) return;
    this.running = this.follow();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.running;
  }

  /** Whether the cache is in use now (the follower is live). */
  get isLive(): boolean {
    return this.live;
  }

  /** The spec of `entityType` (undefined: not registered): from the cache when it holds a fresh one, else from `read`. */
  async get(entityType: string, read: () => Promise<TypeSpec | undefined>): Promise<TypeSpec | undefined> {
    if (!this.live) return read();
    const now = performance.now();
    const hit = this.entries.get(entityType);
    if (hit !== undefined && now - hit.readAt < this.options.maxAgeMs) return hit.spec;
    const generation = this.generation;
    const spec = await read();
    if (this.live && generation === this.generation) this.put(entityType, { spec, readAt: now });
    return spec;
  }

  /** Drops `entityType` (this replica just changed it: its next write must see the change). */
  invalidate(entityType: string): void {
    this.generation++;
    this.entries.delete(entityType);
  }

  private put(entityType: string, entry: Entry): void {
    this.entries.delete(entityType);
    this.entries.set(entityType, entry);
    if (this.entries.size > this.options.maxEntries) {
      this.entries.delete(this.entries.keys().next().value!);
    }
  }

  private setLive(live: boolean): void {
    this.generation++;
    this.entries.clear();
    this.live = live;
  }

  private async follow(): Promise<void> {
    const signal = this.stopping.signal;
    let failures = 0;
    while (!signal.aborted) {
      const silence = new AbortController();
      const both = AbortSignal.any([signal, silence.signal]);
      let timer: NodeJS.Timeout | undefined;
      const heard = () => {
        clearTimeout(timer);
        timer = setTimeout(() => silence.abort(), this.options.silenceMs);
      };
      try {
        // Every change committed after the head is on the stream from head + 1: from here on, none is missed.
        const head = await this.eventStore.getHead({ signal: both, timeoutMs: this.options.silenceMs });
        heard();
        this.setLive(true);
        for await (const batch of this.eventStore.followEntityType(registryEntityType, head + 1n, both)) {
          heard();
          failures = 0;
          for (const id of batch.originatorIds) {
            if (id.startsWith(registryIdPrefix)) this.invalidate(id.slice(registryIdPrefix.length));
          }
        }
        throw new Error("the Event Store ended the stream");
      } catch (error) {
        this.setLive(false);
        if (signal.aborted) break;
        failures++;
        // A quiet log on an Event Store that sends no heartbeats looks like this too: that alone is not worth a warning.
        const silent = silence.signal.aborted;
        this.logger[silent && failures === 1 ? "debug" : "warn"](
          "the type registry's cache is off until its follower of the log is back",
          { reason: silent ? `no message for ${this.options.silenceMs} ms` : String(error), attempt: failures },
        );
        await sleep(
          backoffCeiling(failures - 1, { initialDelayMs: this.options.retryMs, maxDelayMs: 16 * this.options.retryMs }),
          signal,
        );
      } finally {
        clearTimeout(timer);
      }
    }
    this.setLive(false);
  }
}
