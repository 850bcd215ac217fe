import type { JetStreamClient, PubAck } from "@nats-io/jetstream";
import { headers, type MsgHdrs } from "@nats-io/transport-node";
import { headerNames } from "../encoding.js";
import type { StreamHead } from "./stream-head.js";

/** One entry, encoded once however often it is sent. */
export interface OutgoingMessage {
  readonly logId: bigint;
  readonly subject: string;
  readonly data: Uint8Array;
  readonly eventType: string;
  readonly contentType: string;
}

/** How a {@link PublishRun} publishes. */
export interface PublishWindowOptions {
  js: JetStreamClient;
  /** How long to wait for JetStream's ack of one publish, in ms. */
  ackTimeoutMs: number;
  /** Publishes in flight at once (1: each waits for the ack of the one before). */
  window: number;
}

/**
 * The entries of one `OrderedPublisher.publishAll` call, sent in order with several publishes in flight, and which of
 * them this process got acked as new (a message JetStream stored for us counts as published by us, even when it was
 * acked after a failure of an earlier one).
 */
export class PublishRun {
  private readonly ackedSeq: (number | undefined)[];

  constructor(
    private readonly messages: readonly OutgoingMessage[],
    private readonly o: PublishWindowOptions,
  ) {
    this.ackedSeq = new Array<number | undefined>(messages.length);
  }

  acked(index: number): boolean {
    return this.ackedSeq[index] !== undefined;
  }

  /**
   * Sends messages `from`.. with up to `window` in flight, each expecting the one before it (the first expecting
   * `head`), and awaits their acks in order. Resolves with the stream's new head: the last message sent, or fewer
   * when `signal` aborted (it sends no more then); or with the index of the first one acked as a duplicate (every one
   * before it acked as new). On the first failure it sends no more and rejects with that error once every publish in
   * flight has settled, after telling `onExpected` the sequence the failed publish expected to be last.
   */
  async send(
    from: number,
    head: StreamHead,
    bySequence: boolean,
    signal: AbortSignal,
    onExpected: (seq: number) => void,
  ): Promise<{ head: StreamHead } | { duplicateAt: number }> {
    const inFlight: Array<Promise<PubAck>> = [];
    let sent = from;
    let settled = from;
    let problem: { error: unknown } | { duplicateAt: number } | undefined;
    for (;;) {
      // Refilled once half the window came back, so that a burst of publishes goes out together (one write).
      const refill = sent - settled <= this.o.window >> 1;
      for (; refill && problem === undefined && !signal.aborted && sent < this.messages.length; sent++) {
        if (sent - settled >= this.o.window) break;
        const m = this.messages[sent]!;
        const expect =
          sent > from
            ? { lastMsgID: String(this.messages[sent - 1]!.logId) }
            : bySequence
              ? { lastSequence: head.seq }
              : { lastMsgID: String(head.logId) };
        const publishing = this.o.js.publish(m.subject, m.data, {
          msgID: String(m.logId),
          headers: entryHeaders(m.logId, m.eventType, m.contentType),
          expect,
          timeout: this.o.ackTimeoutMs,
        });
        // Awaited in order below; meanwhile a rejection must not count as unhandled.
        publishing.catch(() => {});
        inFlight.push(publishing);
      }
      if (settled === sent) break;
      const index = settled++;
      try {
        const ack = await inFlight.shift()!;
        if (ack.duplicate) problem ??= { duplicateAt: index };
        else this.ackedSeq[index] = ack.seq;
      } catch (error) {
        if (problem === undefined) {
          problem = { error };
          onExpected(index === from ? head.seq : this.ackedSeq[index - 1]!);
        }
      }
    }
    if (problem !== undefined && "error" in problem) throw problem.error;
    if (problem !== undefined) return problem;
    const last = settled - 1;
    return { head: last < from ? head : { logId: this.messages[last]!.logId, seq: this.ackedSeq[last]! } };
  }
}

/**
 * The headers of one publish attempt, new each time: `js.publish` writes the expectation into the headers it is given,
 * so headers reused by a retry by sequence would still carry the msg id expectation that JetStream just refused.
 */
function entryHeaders(logId: bigint, eventType: string, contentType: string): MsgHdrs {
  const h = headers();
  h.set(headerNames.logId, String(logId));
  h.set(headerNames.eventType, eventType);
  h.set(headerNames.contentType, contentType);
  return h;
}
