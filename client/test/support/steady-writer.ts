/**
 * A writer that keeps appending while a test breaks things: one event per request, each on its own originator and
 * with its own event_id, so a request whose outcome was lost (the store died mid-call) is simply sent again and
 * stored at most once. Whether such an event was stored is for the log to say, not the writer: tests compare what
 * a consumer handled with the log read back afterwards.
 */
import { randomUUID } from "node:crypto";
import type { EventStoreClient } from "../../src/event-store-client.js";

export interface SteadyWriter {
  /** Events acknowledged so far. */
  readonly acked: number;
  /** Failed attempts (each retried). */
  readonly failures: number;
  /** Stops after the request in flight is acknowledged; resolves to the number acknowledged. */
  stop(): Promise<number>;
}

/** Starts appending `<entityType>.Ticked` events about every `intervalMs`. */
export function startSteadyWriter(client: EventStoreClient, entityType: string, intervalMs = 5): SteadyWriter {
  let acked = 0;
  let failures = 0;
  let stopping = false;
  const run = async () => {
    while (!stopping) {
      const event = {
        originatorId: `${entityType}-${randomUUID()}`,
        version: 1n,
        eventType: `${entityType}.Ticked`,
        payload: { n: acked + 1 },
        eventId: randomUUID(),
      };
      for (;;) {
        try {
          await client.appendEvents([event], { timeoutMs: 2_000 });
          acked++;
          break;
        } catch {
          failures++;
          // Stored or not, the log will tell; a writer told to stop does not wait for a dead store.
          if (stopping) return;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  };
  const done = run();
  return {
    get acked() {
      return acked;
    },
    get failures() {
      return failures;
    },
    async stop() {
      stopping = true;
      await done;
      return acked;
    },
  };
}
