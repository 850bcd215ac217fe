import type { JetStreamManager } from "@nats-io/jetstream";
import { headerNames } from "../encoding.js";

/** The last message of the bridge's stream, as far as ordering needs it. */
export interface StreamHead {
  /** The log id of the stream's last message; 0 when the stream is empty (or its last message was removed). */
  readonly logId: bigint;
  /** The stream's last sequence (0 for a stream that never held a message). */
  readonly seq: number;
}

/**
 * Reads the stream's last message: its sequence from the stream's state, then that message's log id header. The two
 * are read one after the other, so another publisher may add a message in between; the pair still describes one
 * message, and the next publish's expectation fails if it is no longer the last one.
 */
export async function readStreamHead(jsm: JetStreamManager, stream: string): Promise<StreamHead> {
  const info = await jsm.streams.info(stream);
  const seq = info.state.last_seq;
  if (info.state.messages === 0 || seq === 0) return { logId: 0n, seq };
  const message = await jsm.streams.getMessage(stream, { seq }).catch((error: unknown) => {
    // Removed since (a limit, a purge): nothing to read, the sequence alone orders the next publish.
    if (error instanceof Error && /no message found/i.test(error.message)) return null;
    throw error;
  });
  const logId = message?.header?.get(headerNames.logId);
  return { logId: logId !== undefined && /^[0-9]+$/.test(logId) ? BigInt(logId) : 0n, seq };
}
