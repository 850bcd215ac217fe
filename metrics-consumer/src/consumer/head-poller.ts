import type { EventStoreClient } from "@eskit/client";
import type { Logger } from "@eskit/server-kit/logger.js";

/**
 * Reads the log head (`GetHead`) every `intervalMs`, for the lag, and remembers when the Event Store last answered:
 * the consumer's stream says nothing while the log is quiet, so these answers are what tells a quiet log from an
 * unreachable store. One call at a time; a call that hangs is cut at the interval.
 */
export class HeadPoller {
  private lastContact: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly stopped = new AbortController();
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly client: EventStoreClient,
    private readonly intervalMs: number,
    private readonly onHead: (head: bigint) => void,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Polls now, then every interval until {@link stop}. */
  start(): void {
    if (this.timer !== undefined || this.stopped.signal.aborted) return;
    this.timer = setInterval(() => this.poll(), this.intervalMs);
    this.timer.unref();
    this.poll();
  }

  /** Records an answer of the Event Store that came another way (an entry on the stream, an offset saved). */
  contact(): void {
    this.lastContact = this.now();
  }

  /** Whether the Event Store answered within the last `windowMs`. */
  answeredWithin(windowMs: number): boolean {
    return this.lastContact !== undefined && this.now() - this.lastContact <= windowMs;
  }

  /** Stops polling and waits for the call in flight, if any, to end. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.stopped.abort();
    await this.inFlight;
  }

  private poll(): void {
    if (this.inFlight !== undefined) return;
    const signal = AbortSignal.any([this.stopped.signal, AbortSignal.timeout(this.intervalMs)]);
    this.inFlight = this.client
      .getHead({}, { signal })
      .then(
        (response) => {
          this.contact();
          this.onHead(response.headId);
        },
        (error: unknown) => {
          if (!this.stopped.signal.aborted) this.logger.debug("GetHead failed", { error: String(error) });
        },
      )
      .finally(() => (this.inFlight = undefined));
  }
}
