import { create } from "@bufbuild/protobuf";
import type { CallOptions, Client } from "@connectrpc/connect";
import { EventStoreService, GetHeadRequestSchema } from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
import { backoffDelay, sleep } from "./backoff.js";
import type { ConsumerClient } from "./consumer-client.js";
import type { ConsumeStart, ResolvedConsumeOptions } from "./consume-options.js";
import { isTransient } from "./transient-error.js";

/** Where a consumer begins: it streams from `after + 1`. */
export interface StartPosition {
  /** The id of the last entry counted as handled: the saved offset, the head (start "end"), or 0. */
  readonly after: bigint;
  /** The saved offset the consumer resumed from (start "saved"), else 0. */
  readonly saved: bigint;
}

/**
 * Resolves `start` to a position. "saved" reads the consumer's offset (none yet → the beginning); "end" reads the
 * head, so entries appended while the consumer starts are delivered, never lost in between; "beginning" asks
 * nothing.
 */
export async function startPosition(
  start: ConsumeStart,
  consumerId: string,
  clients: { eventStore: Client<typeof EventStoreService>; consumers: ConsumerClient },
  callOptions: CallOptions,
): Promise<StartPosition> {
  switch (start) {
    case "beginning":
      return { after: 0n, saved: 0n };
    case "end": {
      const { headId } = await clients.eventStore.getHead(create(GetHeadRequestSchema, {}), callOptions);
      return { after: headId, saved: 0n };
    }
    case "saved": {
      const offset = (await clients.consumers.getOffset(consumerId, callOptions))?.offset ?? 0n;
      return { after: offset, saved: offset };
    }
  }
}

/**
 * Sends a start-up call until it is answered, retrying transient failures with backoff as a reconnection would.
 * Resolves to undefined when stopped first; rejects with a permanent error. `transient` tells the two apart: by
 * default a Connect error's code; a call to a database passes its own judge.
 */
export async function untilAnswered<T>(
  call: () => Promise<T>,
  o: Pick<ResolvedConsumeOptions, "backoff" | "onReconnect">,
  stop: AbortSignal,
  transient: (error: unknown) => boolean = isTransient,
): Promise<T | undefined> {
  for (let attempt = 0; ;) {
    try {
      return await call();
    } catch (error) {
      if (stop.aborted) return undefined;
      if (!transient(error)) throw error;
      const delay = backoffDelay(attempt++, o.backoff);
      o.onReconnect(error, delay, attempt);
      if (!(await sleep(delay, stop))) return undefined;
    }
  }
}
