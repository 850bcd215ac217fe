import type { Client } from "@connectrpc/connect";
import type { AppLogEntry } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import type { EventStoreService, LogsPollResponse } from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";

/** How far a projection reads ahead, how large the batches it hands on may be, and when they wait to fill up. */
export interface ReadAheadLimits {
  /** Most entries in one batch (the projection's `batchSize`). */
  readonly entries: number;
  /** Most bytes (estimated, see {@link entryBytes}) in one batch, and read ahead of it; a larger entry comes alone. */
  readonly bytes: number;
  /**
   * Whether the log holds entries after `id` (the last one read): the projection is catching up, and the messages
   * on their way come as fast as the Event Store reads them, so a batch that is not full waits for them (at most
   * `lingerMs`). Without it, or when it says no (at the head of the log, where the next message waits for the next
   * append), a batch takes what came and goes.
   */
  readonly behind?: (id: bigint) => boolean;
  /** Longest wait of a batch for more entries while catching up, in ms. */
  readonly lingerMs?: number;
}

/** The default of {@link ReadAheadLimits.lingerMs}: a few LogsPoll messages' time while catching up. */
export const catchUpLingerMs = 50;

/**
 * Most bytes of entries a batch gathers from several LogsPoll messages, and a projection reads ahead of the batch it
 * applies: 16 of the Event Store's messages (256 KiB each), so that memory stays at a few MB whatever `batchSize`.
 */
export const readAheadBytes = 4 * 1024 * 1024;

/**
 * `eventStore` with a LogsPoll that reads ahead while the projection applies a batch and hands on its messages
 * regrouped as batches (see {@link readAhead}); its other methods are `eventStore`'s.
 */
export function withReadAhead(
  eventStore: Client<typeof EventStoreService>,
  limits: ReadAheadLimits,
): Client<typeof EventStoreService> {
  return {
    ...eventStore,
    logsPoll: (request, options) => readAhead(eventStore.logsPoll(request, options), limits),
  };
}

/**
 * The entries of `messages`, in the same order, regrouped as messages of up to `limits.entries` entries and
 * `limits.bytes` bytes. While the caller works on one (a projection applies it in a transaction, waiting for its
 * database), the next messages are read, decoded and queued, up to those limits, so a transaction does not wait for
 * the log, nor the log for a transaction, and a batch spans as many messages as arrived meanwhile: each message no
 * longer costs a transaction of its own. While the projection catches up (`limits.behind`), a batch that is not full
 * waits for the messages on their way, at most `limits.lingerMs`: full batches mean fewer transactions, and a
 * handler's multi-row statement of one shape (prepared once). Otherwise a message still on its way is not waited for,
 * beyond one turn of the event loop (what the connection has received by then is taken along): a projection at the
 * head of the log applies what came without delay.
 *
 * Nothing is skipped or repeated: every entry comes out exactly once, in order, and an error of `messages` (or its
 * end) comes out after the entries read before it. A heartbeat (an empty message) comes out as one when nothing is
 * queued, so that the caller's silence watchdog sees it. Leaving (return) stops reading; the caller cancels the call.
 */
export async function* readAhead(
  messages: AsyncIterable<LogsPollResponse>,
  limits: ReadAheadLimits,
): AsyncGenerator<LogsPollResponse> {
  const source = messages[Symbol.asyncIterator]();
  /** Messages read and not yet handed on in full, with each entry's size; `head` entries of the first are gone. */
  const queue: Array<{ readonly entries: AppLogEntry[]; readonly sizes: number[]; readonly bytes: number }> = [];
  let head = 0;
  let queuedEntries = 0;
  let queuedBytes = 0;
  let lastQueued = 0n;
  let heartbeat = false;
  let pending = false;
  let outcome: { readonly error: unknown } | "ended" | undefined;
  let wake: (() => void) | undefined;
  let left = false;
  const pump = (): void => {
    if (left || pending || outcome !== undefined) return;
    // The batch after next too: when the caller comes back for the next, the one after it is on its way already.
    if (queuedEntries >= 2 * limits.entries || queuedBytes >= limits.bytes) return;
    pending = true;
    source.next().then(
      (next) => {
        pending = false;
        if (next.done === true) outcome = "ended";
        else if (next.value.entries.length === 0) heartbeat = true;
        else {
          const { entries } = next.value;
          const sizes = entries.map(entryBytes);
          let bytes = 0;
          for (const size of sizes) bytes += size;
          queue.push({ entries, sizes, bytes });
          queuedEntries += entries.length;
          queuedBytes += bytes;
          lastQueued = entries.at(-1)!.id;
        }
        wake?.();
        pump();
      },
      (error: unknown) => {
        pending = false;
        outcome = { error };
        wake?.();
      },
    );
  };
  const arrival = () => new Promise<void>((resolve) => (wake = resolve));
  try {
    for (;;) {
      pump();
      if (queuedEntries === 0 && !heartbeat && outcome === undefined) await arrival();
      wake = undefined;
      if (queuedEntries > 0 && queuedEntries < limits.entries && pending) {
        if (limits.behind?.(lastQueued) === true) await fillUp();
        // Messages already in the connection's buffers are decoded within this turn of the event loop: take them.
        else await new Promise((resolve) => setImmediate(resolve));
      }
      if (queuedEntries > 0) {
        heartbeat = false;
        const entries = take();
        pump(); // the read-ahead goes on while the caller applies this batch
        yield { $typeName: "eskit.eventstore.v1.LogsPollResponse", entries };
      } else if (heartbeat) {
        heartbeat = false;
        yield { $typeName: "eskit.eventstore.v1.LogsPollResponse", entries: [] };
      } else if (outcome === "ended") {
        return;
      } else if (outcome !== undefined) {
        throw outcome.error;
      }
    }
  } finally {
    left = true;
    // Not awaited: a read still pending settles only once the caller cancels the call, after we return.
    void source.return?.()?.catch(() => {});
  }

  /** Waits for messages until a batch is full, the stream brings a heartbeat or ends, or `lingerMs` passed. */
  async function fillUp(): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let late = false;
    const lingered = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        late = true;
        resolve();
      }, limits.lingerMs ?? catchUpLingerMs);
    });
    try {
      while (!late && pending && !heartbeat && queuedEntries < limits.entries && queuedBytes < limits.bytes) {
        await Promise.race([arrival(), lingered]);
        wake = undefined;
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** The next batch off the queue: up to `limits.entries` entries and `limits.bytes` bytes, at least one entry. */
  function take(): AppLogEntry[] {
    const first = queue[0]!;
    if (
      head === 0 &&
      first.entries.length <= limits.entries &&
      first.bytes <= limits.bytes &&
      (queue.length === 1 || first.entries.length === limits.entries)
    ) {
      // The common cases, handed on without a copy: a message that fits and is all there is, or exactly a batch.
      queue.shift();
      queuedEntries -= first.entries.length;
      queuedBytes -= first.bytes;
      return first.entries;
    }
    const batch: AppLogEntry[] = [];
    let bytes = 0;
    while (queue.length > 0 && batch.length < limits.entries) {
      const message = queue[0]!;
      const size = message.sizes[head]!;
      if (batch.length > 0 && bytes + size > limits.bytes) break;
      batch.push(message.entries[head]!);
      bytes += size;
      if (++head === message.entries.length) {
        queue.shift();
        head = 0;
      }
    }
    queuedEntries -= batch.length;
    queuedBytes -= bytes;
    return batch;
  }
}

/**
 * About how many bytes an entry takes on the wire (its strings' lengths plus a fixed part for its numbers and
 * framing): the measure of the read-ahead's bounds, cheap enough to take for every entry.
 */
export function entryBytes(entry: AppLogEntry): number {
  const event = entry.event;
  if (event === undefined) return 16;
  let bytes = 48 + event.payload.length + event.eventType.length + event.eventId.length;
  if (event.originator !== undefined) bytes += event.originator.id.length;
  for (const key in event.metadata) bytes += key.length + event.metadata[key]!.length + 4;
  return bytes;
}
