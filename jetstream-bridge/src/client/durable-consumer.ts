import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  type Consumer,
  type ConsumerConfig,
  type ConsumerInfo,
} from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";

/** The durable pull consumer {@link consumeJetStream} reads through. */
export interface DurableSpec {
  readonly stream: string;
  readonly durable: string;
  readonly filter: string;
  readonly ackWaitMs: number;
}

/** A durable ready to pull from, and the delivery sequence its next message must carry. */
export interface OpenDurable {
  readonly consumer: Consumer;
  /** Deliveries are numbered one by one; a message above this one means some before it were lost on the way. */
  readonly nextDelivery: number;
}

/**
 * Opens the durable so that nothing can come out of order. JetStream hands a message that was delivered but never
 * acked (lost on the way in a NATS restart or a network cut, or held by a run that was killed) back only after the
 * ack wait, while it goes on delivering later ones: a reader that took those would then see the lost message as a
 * repeat and skip it. So a durable with unacked messages is recreated to start right after the last entry handled:
 * `after` (this run's last stream sequence), or its ack floor when this run has handled none. That position is kept
 * here across attempts, so a recreation cut between the delete and the add resumes from it, not from the stream's
 * start. One process reads a durable at a time.
 */
export class DurableConsumer {
  private resumeAfter: number | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly spec: DurableSpec,
  ) {}

  async open(after?: number): Promise<OpenDurable> {
    const { stream, durable, filter, ackWaitMs } = this.spec;
    const jsm = await jetstreamManager(this.nc);
    const found = await jsm.consumers.info(stream, durable).catch((error: unknown) => {
      if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.ConsumerNotFound) return undefined;
      throw error;
    });
    if (after !== undefined) this.resumeAfter = after;
    let info: ConsumerInfo;
    if (found !== undefined && found.num_ack_pending > 0) {
      this.resumeAfter ??= ackedUpTo(found);
      await jsm.consumers.delete(stream, durable).catch((error: unknown) => {
        if (!(error instanceof JetStreamApiError && error.code === JetStreamApiCodes.ConsumerNotFound)) throw error;
      });
      info = await jsm.consumers.add(stream, this.config(this.resumeAfter));
    } else if (found === undefined) {
      info = await jsm.consumers.add(stream, this.config(this.resumeAfter));
    } else if (found.config.filter_subject !== filter || found.config.ack_wait !== ackWaitMs * 1_000_000) {
      info = await jsm.consumers.update(stream, durable, { filter_subject: filter, ack_wait: ackWaitMs * 1_000_000 });
    } else {
      info = found;
    }
    const consumer = await jetstream(this.nc).consumers.get(stream, durable);
    return { consumer, nextDelivery: info.delivered.consumer_seq + 1 };
  }

  private config(after: number | undefined): Partial<ConsumerConfig> {
    const { durable, filter, ackWaitMs } = this.spec;
    return {
      durable_name: durable,
      filter_subject: filter,
      ack_policy: AckPolicy.Explicit,
      ack_wait: ackWaitMs * 1_000_000,
      ...(after === undefined || after === 0
        ? { deliver_policy: DeliverPolicy.All }
        : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: after + 1 }),
    };
  }
}

/**
 * The stream sequence up to which a durable's messages are acked. JetStream (2.9) reports an ack floor of 0 for a
 * consumer that acked nothing yet, whatever its start; one this module created starts at `opt_start_seq` or at 1.
 */
function ackedUpTo(info: ConsumerInfo): number {
  if (info.ack_floor.consumer_seq > 0) return info.ack_floor.stream_seq;
  return info.config.deliver_policy === DeliverPolicy.StartSequence ? (info.config.opt_start_seq ?? 1) - 1 : 0;
}
