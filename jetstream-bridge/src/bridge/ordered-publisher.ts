import type { AppLogEntry } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import { backoffDelay, sleep, type BackoffOptions } from "@eskit/client/backoff.js";
import { JetStreamApiError, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { encodeEntry, type Encoding } from "../encoding.js";
import { subjectOf } from "../subjects.js";
import { PublishRun, type OutgoingMessage } from "./publish-window.js";
import { readStreamHead, type StreamHead } from "./stream-head.js";

/** JetStream's answers to a publish whose expectation failed: another publisher was first, or it forgot the last id. */
const wrongLastCodes = new Set([10070 /* wrong last msg id */, 10071 /* wrong last sequence */]);

/** Options of {@link OrderedPublisher}. */
export interface OrderedPublisherOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  stream: string;
  subjectPrefix: string;
  encoding: Encoding;
  /** How long to wait for JetStream's ack of one publish, in ms. */
  ackTimeoutMs: number;
  /** Publishes in flight at once (1: each waits for the ack of the one before). */
  window: number;
  backoff: BackoffOptions;
  /** A publish or a read of the stream's last message failed; the same entry is tried again after `delayMs`. */
  onError: (error: unknown, delayMs: number, attempt: number) => void;
  /**
   * A publish's expectation was refused: another publisher had moved the stream on (a second bridge, a stale retry),
   * or JetStream no longer knows the last msg id (a restart); the head is read again.
   */
  onConflict: (error: unknown) => void;
}

/** What became of an entry. */
export type PublishOutcome = "published" | "present";

/** Thrown by {@link OrderedPublisher.publishAll} when stopped before its entries were known to be on the stream. */
export class PublishStopped extends Error {
  override name = "PublishStopped";
}

/**
 * Puts log entries on the stream in log order, each once, whoever else publishes there. Every publish carries the log
 * id as `Nats-Msg-Id` (JetStream drops a repeat within its duplicate window) and expects the message before it to be
 * the stream's last (`Nats-Expected-Last-Msg-Id`: the previous entry's log id, or for the first publish after reading
 * the stream the log id of its last message; `Nats-Expected-Last-Sequence` while the stream holds no bridged message,
 * or when JetStream no longer knows the last msg id, as after a restart). Up to `window` publishes are in flight at
 * once; since each expects its predecessor, JetStream stores one only right after the one before it, so a failure
 * anywhere (a second bridge, a publish stored although its ack never came, a restart) can refuse publishes but never
 * store one out of order or twice. After a refusal or any failure, the publishes in flight are let to settle, the
 * stream's last message is read again, an entry it already holds is "present", and the rest are sent again (with
 * backoff after errors) until they are on the stream: nothing after an entry is stored before it, so no gap.
 */
export class OrderedPublisher {
  private head: StreamHead | undefined;

  constructor(private readonly o: OrderedPublisherOptions) {}

  /** The stream's last log id as last read or published; undefined until known (or after a failure). */
  get lastLogId(): bigint | undefined {
    return this.head?.logId;
  }

  /** Reads the stream's last message now (at start, to resume after it). */
  async syncHead(): Promise<StreamHead> {
    this.head = await readStreamHead(this.o.jsm, this.o.stream);
    return this.head;
  }

  /**
   * Resolves once every entry of `entries` is on the stream (published now, or found there already), having called
   * `onStream` for each, in order; rejects with {@link PublishStopped} only when `signal` aborts first. Entries must
   * come in log order, after those of earlier calls.
   */
  async publishAll(
    entries: readonly AppLogEntry[],
    signal: AbortSignal,
    onStream: (entry: AppLogEntry, outcome: PublishOutcome) => void,
  ): Promise<void> {
    const run = new PublishRun(
      entries.map((entry) => this.message(entry)),
      this.o,
    );
    let next = 0;
    let conflictAt: number | undefined;
    const onStreamUpTo = (head: StreamHead) => {
      for (; next < entries.length && entries[next]!.id <= head.logId; next++) {
        onStream(entries[next]!, run.acked(next) ? "published" : "present");
      }
      return next === entries.length;
    };
    for (let attempt = 0; ;) {
      // Entries already acked are reported even when stopping: the offset may then pass them.
      if (this.head !== undefined && onStreamUpTo(this.head)) return;
      if (signal.aborted) throw new PublishStopped("stopped before the entries were published");
      let expectedSeq: number | undefined;
      try {
        const head = this.head ?? (await this.syncHead());
        if (onStreamUpTo(head)) return;
        // After a conflict that left the stream's last message as it was, its msg id is not what JetStream remembers
        // (a message published without one, a server that forgot it): its sequence is just as exact.
        const bySequence = head.logId === 0n || conflictAt === head.seq;
        expectedSeq = head.seq;
        this.head = undefined;
        const sent = await run.send(next, head, bySequence, signal, (seq) => (expectedSeq = seq));
        if ("head" in sent) this.head = sent.head;
        else {
          // A duplicate's ack: that entry is on the stream (so are the ones acked before it), but the message it names
          // was stored earlier and need not be the stream's last: the stream is read again for the rest.
          for (; next <= sent.duplicateAt; next++) onStream(entries[next]!, run.acked(next) ? "published" : "present");
        }
      } catch (error) {
        this.head = undefined;
        if (error instanceof JetStreamApiError && wrongLastCodes.has(error.code)) {
          this.o.onConflict(error);
          if (conflictAt === undefined || conflictAt !== expectedSeq) {
            conflictAt = expectedSeq;
            continue;
          }
        }
        const delayMs = backoffDelay(attempt++, this.o.backoff);
        this.o.onError(error, delayMs, attempt);
        await sleep(delayMs, signal);
      }
    }
  }

  private message(entry: AppLogEntry): OutgoingMessage {
    const { data, contentType } = encodeEntry(entry, this.o.encoding);
    const eventType = entry.event?.eventType ?? "";
    return { logId: entry.id, subject: subjectOf(this.o.subjectPrefix, eventType), data, eventType, contentType };
  }
}
