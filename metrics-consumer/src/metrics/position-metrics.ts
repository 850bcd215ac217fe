import { Counter, Gauge, type Registry } from "prom-client";

/**
 * Where the consumer is in the Application Log and how far behind its head, as gauges read at scrape time. Both stay
 * absent until known (the offset once the saved one is read, the lag once the head is too), because a made-up 0 would
 * read as "fully caught up".
 */
export class PositionMetrics {
  private offset: bigint | undefined;
  private head: bigint | undefined;
  private readonly reconnects: Counter<"consumer_id">;
  private readonly labels: { consumer_id: string };

  constructor(registry: Registry, consumerId: string) {
    this.labels = { consumer_id: consumerId };
    // Gauges are float64 in Prometheus: exact up to 2^53 log ids, which is as far as a log can go in practice.
    const offset: Gauge<"consumer_id"> = new Gauge({
      name: "eskit_consumer_offset",
      help: "Id of the last Application Log entry the consumer processed (its saved offset until it processes one).",
      labelNames: ["consumer_id"],
      registers: [registry],
      collect: () => {
        offset.reset();
        if (this.offset !== undefined) offset.set(this.labels, Number(this.offset));
      },
    });
    const lag: Gauge<"consumer_id"> = new Gauge({
      name: "eskit_consumer_lag_events",
      help: "Entries of the Application Log not processed yet: the log head minus the consumer's offset.",
      labelNames: ["consumer_id"],
      registers: [registry],
      collect: () => {
        lag.reset();
        if (this.lag !== undefined) lag.set(this.labels, Number(this.lag));
      },
    });
    this.reconnects = new Counter({
      name: "eskit_consumer_reconnects_total",
      help: "Times the consumer waited to reconnect to the Event Store: its stream of the log broke, or a start-up call failed.",
      labelNames: ["consumer_id"],
      registers: [registry],
    });
    this.reconnects.inc(this.labels, 0);
  }

  /** The offset the consumer starts from (its saved one, 0 for a new consumer); ignored once an entry was processed. */
  resumedAt(offset: bigint): void {
    this.offset ??= offset;
  }

  /** An entry was processed. */
  processed(id: bigint): void {
    if (this.offset === undefined || id > this.offset) this.offset = id;
  }

  /** The log head as the Event Store last reported it. */
  headIs(head: bigint): void {
    if (this.head === undefined || head > this.head) this.head = head;
  }

  reconnected(): void {
    this.reconnects.inc(this.labels);
  }

  /**
   * Head minus offset, never negative: an entry processed after the last head reading is itself a later head. Undefined
   * while either is unknown.
   */
  get lag(): bigint | undefined {
    if (this.offset === undefined || this.head === undefined) return undefined;
    return this.head > this.offset ? this.head - this.offset : 0n;
  }
}
