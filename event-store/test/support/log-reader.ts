/**
 * A LogsPoll reader that runs in the background of an e2e test and keeps every entry it is sent, so the test can
 * later compare what the log delivered with what the appends acknowledged.
 */
import { Code, ConnectError, type AppLogEntry, type EventStoreClient } from "@eskit/client";

/** Options of {@link startLogReader}. */
export interface LogReaderOptions {
  /** First id asked for; 0 = the whole log. */
  fromId?: bigint;
  /**
   * Codes on which the reader opens a new stream from the last id it received + 1 instead of failing, e.g.
   * `unavailable` while the database is away. Empty by default: any error ends the reader and is reported.
   */
  reopenOn?: readonly Code[];
  /** Pause between a failed stream and the next attempt. */
  reopenDelayMs?: number;
}

/** A running reader; `entries` grows as the stream delivers. */
export interface LogReader {
  /** Every entry received, in arrival order (duplicates kept, so a test can detect them). */
  readonly entries: AppLogEntry[];
  /** How many streams were opened again after an error listed in `reopenOn`. */
  readonly reopenings: number;
  /** Codes of the errors that led to a reopening, in order. */
  readonly reopenCodes: readonly Code[];
  /** The error that ended the reader, if one did. */
  readonly failure: unknown;
  /** Whether the current stream ended without an error (a LogsPoll stream should only end when cancelled). */
  readonly endedCleanly: boolean;
  /** Settles when the reader stops for good: its stream ended, failed (outside `reopenOn`) or was stopped. */
  readonly finished: Promise<void>;
  /** Resolves once some received entry has id >= `id`; rejects on failure or after `timeoutMs`. */
  waitForId(id: bigint, timeoutMs: number): Promise<void>;
  /** Cancels the stream and waits for the reader to finish. */
  stop(): Promise<void>;
}

/** Opens a LogsPoll stream with `client` and reads it until {@link LogReader.stop}. */
export function startLogReader(client: EventStoreClient, options: LogReaderOptions = {}): LogReader {
  const abort = new AbortController();
  const entries: AppLogEntry[] = [];
  const reopenCodes: Code[] = [];
  const state = { failure: undefined as unknown, endedCleanly: false };

  const run = async (): Promise<void> => {
    let from = options.fromId ?? 0n;
    for (;;) {
      try {
        for await (const entry of client.tail({ fromId: from, signal: abort.signal })) {
          entries.push(entry);
          from = entry.id + 1n;
        }
        if (!abort.signal.aborted) state.endedCleanly = true;
        return;
      } catch (error) {
        const code = ConnectError.from(error).code;
        if (abort.signal.aborted || !(options.reopenOn ?? []).includes(code)) {
          if (!abort.signal.aborted) state.failure = error;
          return;
        }
        reopenCodes.push(code);
        await new Promise((resolve) => setTimeout(resolve, options.reopenDelayMs ?? 200));
      }
    }
  };
  const done = run();

  return {
    entries,
    get reopenings() {
      return reopenCodes.length;
    },
    reopenCodes,
    finished: done,
    get failure() {
      return state.failure;
    },
    get endedCleanly() {
      return state.endedCleanly;
    },
    async waitForId(id, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (entries.some((e) => e.id >= id)) return;
        if (state.failure !== undefined) {
          throw new Error(`the LogsPoll reader failed before reaching id ${id}: ${String(state.failure)}`);
        }
        if (state.endedCleanly) throw new Error(`the LogsPoll stream ended before reaching id ${id}`);
        if (Date.now() > deadline) {
          throw new Error(
            `the LogsPoll reader did not reach id ${id} within ${timeoutMs} ms (has ${entries.length} entries, ` +
              `last id ${entries.at(-1)?.id ?? "none"})`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async stop() {
      abort.abort();
      await done;
    },
  };
}
