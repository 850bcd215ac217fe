import { backoffDelay, sleep } from "@eskit/client/backoff.js";
import type { EntryHandler } from "@eskit/client/consume.js";
import type { JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { decodeEntry, headerNames } from "../encoding.js";
import { filterSubjectOf } from "../subjects.js";
import { AckPipeline } from "./ack-pipeline.js";
import { DurableConsumer, type OpenDurable } from "./durable-consumer.js";
import { isPermanentFailure } from "./permanent-failure.js";

/** Options of {@link consumeJetStream}. */
export interface ConsumeJetStreamOptions {
  /** The stream the bridge writes (JETSTREAM_STREAM). */
  stream: string;
  /** The bridge's JETSTREAM_SUBJECT_PREFIX. Default `eskit.log`. */
  subjectPrefix?: string;
  /** Names the durable JetStream consumer, which keeps the position (letters, digits, `-`, `_`). */
  durable: string;
  /** Which entries, as for `createLogConsumer`: `""`/`"*"` = all, `"User.*"`, `"User.Created"`, `"*.Deleted"`. */
  selector?: string;
  /** Messages fetched per pull request. Default 100. */
  batchSize?: number;
  /** How long JetStream waits for an ack before it delivers a message again, in ms; keep it above a handler's run. Default 30000. */
  ackWaitMs?: number;
  /** Backoff between attempts to recover from a NATS failure: exponential with full jitter. Defaults 100 ms and 10 s. */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
  /** Called before each wait to recover (a pull that failed, messages lost on the way), with what caused it. */
  onReconnect?: (error: unknown, delayMs: number, attempt: number) => void;
}

/** How {@link consumeJetStream} ended. */
export interface ConsumeJetStreamSummary {
  /** Entries handled (and acked) by this run. */
  readonly handled: number;
  /** The log id of the last entry handled, 0 when none. */
  readonly lastId: bigint;
}

/** Deliveries were lost on the way (their numbers skipped): what came after them must not be handled first. */
class DeliveriesLost extends Error {
  override readonly name = "DeliveriesLost";
}

/**
 * Consumes the bridge's stream as `createLogConsumer` consumes the log, with the same handler: entries of `selector`,
 * one at a time, in log order, on a durable consumer, so the next run resumes after the last acked entry. Each entry
 * is acked after its handler returned, without waiting for JetStream's answer ({@link AckPipeline}: at most two
 * pulls' acks unconfirmed); the acks are confirmed before it returns or throws. A handler that throws stops the run
 * with its error; its entry and the rest of the pull are handed back (nak) in order, to come first next time.
 * Delivery is at least once (an ack lost with a crash means that entry again): an entry whose log id is not above
 * the last one handled in this run is acked and skipped.
 *
 * NATS failures are recovered from, with backoff: a pull whose heartbeats stop (NATS restarted, the network cut),
 * a request without an answer, messages lost on the way (a gap in the delivery numbers) all reopen the durable from
 * the last entry handled ({@link DurableConsumer}), so no entry is skipped or taken out of order. It throws only when
 * the stream is gone, the consumer's configuration is refused, or the connection was closed. Resolves when `signal`
 * aborts, after the entry in hand is handled, the pull in flight ended (up to 1 s) and the acks were confirmed (up to
 * the JetStream API timeout, 5 s, when NATS does not answer: those entries then come again next time).
 */
export async function consumeJetStream(
  nc: NatsConnection,
  options: ConsumeJetStreamOptions,
  handler: EntryHandler,
  control: { signal?: AbortSignal } = {},
): Promise<ConsumeJetStreamSummary> {
  const signal = control.signal;
  const durable = new DurableConsumer(nc, {
    stream: options.stream,
    durable: options.durable,
    filter: filterSubjectOf(options.subjectPrefix ?? "eskit.log", options.selector ?? ""),
    ackWaitMs: options.ackWaitMs ?? 30_000,
  });
  const backoff = {
    initialDelayMs: options.reconnect?.initialDelayMs ?? 100,
    maxDelayMs: options.reconnect?.maxDelayMs ?? 10_000,
  };
  let handled = 0;
  let lastId = 0n;
  // The stream sequence of the last entry handled: where a reopened durable starts after.
  let lastSeq: number | undefined;
  let open: OpenDurable | undefined;
  let nextDelivery = 0;
  let acks = new AckPipeline();
  let failure: { error: unknown } | undefined;
  for (let attempt = 0; !signal?.aborted && failure === undefined;) {
    const handBack: JsMsg[] = [];
    try {
      if (open === undefined) {
        open = await durable.open(lastSeq);
        nextDelivery = open.nextDelivery;
      }
      // A pull ends by itself within `expires`; it is not cut on a stop, because messages it still holds would stay
      // pending (not handed back) until the ack wait ends, and the next run would have to reopen the durable.
      const pull = await open.consumer.fetch({ max_messages: options.batchSize ?? 100, expires: 1000 });
      for await (const message of pull) {
        if (failure !== undefined || signal?.aborted) {
          handBack.push(message);
          continue;
        }
        const delivery = message.info.deliverySequence;
        if (delivery > nextDelivery) throw new DeliveriesLost(`deliveries ${nextDelivery}..${delivery - 1} were lost`);
        // Below it: a restarted NATS forgot the last deliveries; they come again, and are skipped as repeats.
        nextDelivery = delivery + 1;
        // The entry before stays held until this one was handled: if this handler throws, that ack is the one
        // confirmed (asked with a reply) before the error is thrown, which confirms every ack sent before it.
        try {
          const entry = decodeEntry(message.data, message.headers?.get(headerNames.contentType));
          if (entry.id > lastId) {
            await handler(entry);
            lastId = entry.id;
            lastSeq = message.info.streamSequence;
            handled++;
          }
        } catch (error) {
          failure = { error };
          handBack.push(message);
          continue;
        }
        acks.hold(message);
      }
      await acks.checkpoint();
      attempt = 0;
    } catch (error) {
      if (signal?.aborted || failure !== undefined) break;
      if (nc.isClosed() || isPermanentFailure(error)) throw error;
      // Reopened after the last entry handled, so acks not confirmed yet no longer matter.
      open = undefined;
      acks = new AckPipeline();
      const delayMs = backoffDelay(attempt, backoff);
      options.onReconnect?.(error, delayMs, attempt++);
      await sleep(delayMs, signal);
    } finally {
      for (const message of handBack) message.nak();
    }
  }
  // The acks are confirmed so that the next run starts after them; if NATS does not answer, entries whose acks were
  // lost come again next time (at least once), first.
  await acks.settle().catch(() => {});
  if (failure !== undefined) throw failure.error;
  return { handled, lastId };
}
