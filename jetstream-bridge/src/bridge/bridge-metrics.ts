import { Counter, Gauge, type Registry } from "prom-client";

/**
 * The bridge's figures for Prometheus, labelled by stream. The lag and the last id stay absent until known (a made-up
 * 0 would read as "fully caught up").
 */
export class BridgeMetrics {
  private last: bigint | undefined;
  private head: bigint | undefined;
  private readonly labels: { stream: string };
  private readonly published: Counter<"stream">;
  private readonly errors: Counter<"stream">;
  private readonly conflicts: Counter<"stream">;

  constructor(registry: Registry, stream: string) {
    this.labels = { stream };
    const labelNames = ["stream"] as const;
    const lastId: Gauge<"stream"> = new Gauge({
      name: "eskit_jetstream_bridge_last_published_id",
      help: "Log id of the last Application Log entry known to be on the stream (published by this bridge or found there).",
      labelNames,
      registers: [registry],
      collect: () => {
        lastId.reset();
        if (this.last !== undefined) lastId.set(this.labels, Number(this.last));
      },
    });
    const lag: Gauge<"stream"> = new Gauge({
      name: "eskit_jetstream_bridge_lag_events",
      help: "Log head (GetHead) minus the last log id on the stream: entries of the Application Log not bridged yet.",
      labelNames,
      registers: [registry],
      collect: () => {
        lag.reset();
        if (this.last !== undefined && this.head !== undefined)
          lag.set(this.labels, Number(this.head > this.last ? this.head - this.last : 0n));
      },
    });
    this.published = new Counter({
      name: "eskit_jetstream_bridge_published_total",
      help: "Entries this bridge process published to the stream (not counting ones it found there already).",
      labelNames,
      registers: [registry],
    });
    this.errors = new Counter({
      name: "eskit_jetstream_bridge_publish_errors_total",
      help: "Publishes (or reads of the stream's last message) that failed and were retried after a backoff.",
      labelNames,
      registers: [registry],
    });
    this.conflicts = new Counter({
      name: "eskit_jetstream_bridge_conflicts_total",
      help: "Publishes JetStream refused because the stream had moved on (another bridge, a stale retry).",
      labelNames,
      registers: [registry],
    });
    for (const counter of [this.published, this.errors, this.conflicts]) counter.inc(this.labels, 0);
  }

  /** The entry with this id is on the stream; `published` when this process put it there. */
  onStream(id: bigint, published: boolean): void {
    if (this.last === undefined || id > this.last) this.last = id;
    if (published) this.published.inc(this.labels);
  }

  headIs(head: bigint): void {
    if (this.head === undefined || head > this.head) this.head = head;
  }

  publishFailed(): void {
    this.errors.inc(this.labels);
  }

  conflicted(): void {
    this.conflicts.inc(this.labels);
  }
}
