import type { JsMsg } from "@nats-io/jetstream";

/**
 * Acks handled messages without waiting for JetStream's answer to each, yet knows when they took effect. Waiting for
 * every ack's answer before taking the next message bounded a consumer to one NATS round trip per entry (benchmark
 * 6: p50 30× LogsPoll's). JetStream handles one consumer's acks in the order they arrive, so the answer to one ack
 * requested with a reply (`ackAck`) confirms every ack sent before it: each pull's last ack asks for one, and only
 * the pull after next waits for it. At most two pulls' acks are therefore unconfirmed.
 *
 * A message's ack goes out once the next message was handled (or at the pull's end), so that the last one handled is
 * still unacked when a checkpoint needs a message to ask its answer with: at a pull's end, on a stop, or when the next
 * handler threw.
 */
export class AckPipeline {
  private held: JsMsg | undefined;
  private confirming: Promise<void> = Promise.resolve();
  private failure: { error: unknown } | undefined;

  /** `message` was handled (or skipped as a repeat): it is acked when the next is held, or at the next checkpoint. */
  hold(message: JsMsg): void {
    this.release();
    this.held = message;
  }

  /** Sends the held ack without waiting for an answer. */
  private release(): void {
    if (this.held === undefined) return;
    this.held.ack();
    this.held = undefined;
  }

  /**
   * Sends the held ack asking for JetStream's answer, after waiting for the previous checkpoint's answer; throws when
   * an earlier confirmation failed (no answer in time: NATS is gone, so the acks may be lost).
   */
  async checkpoint(): Promise<void> {
    await this.confirming;
    if (this.failure !== undefined) throw this.failure.error;
    const held = this.held;
    if (held === undefined) return;
    this.held = undefined;
    this.confirming = held.ackAck().then(
      () => undefined,
      (error: unknown) => {
        this.failure ??= { error };
      },
    );
  }

  /** Resolves once every ack so far is confirmed; throws when one could not be. */
  async settle(): Promise<void> {
    await this.checkpoint();
    await this.confirming;
    if (this.failure !== undefined) throw this.failure.error;
  }
}
