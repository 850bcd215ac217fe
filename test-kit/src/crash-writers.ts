/**
 * Append writers that keep going while the Event Store is killed and restarted under them, and record every request
 * they sent with what became of it: acknowledged (with its log ids), refused by the store (a version conflict), or
 * unacknowledged (the connection died or the store was down: it may or may not have been stored). A fault test then
 * reconciles that record against what the store holds.
 *
 * Each writer appends single- and multi-event requests to originators of its own and to a few "hot" originators all
 * writers contend for, with event ids it chooses. After an unacknowledged request it never touches that request's own
 * originators again (it takes fresh ones), so whatever the store kept of it stays as it was at the crash, and a retry
 * with the same event ids at the end is judged against exactly that.
 */
import { randomUUID } from "node:crypto";
import { Code, ConnectError, type EventStoreClient, type NewEvent } from "@eskit/client";
import { mulberry32 } from "./append-workload.js";

/** What became of one Append request. */
export type AppendOutcome =
  | { readonly kind: "acked"; readonly logIds: readonly bigint[] }
  | { readonly kind: "refused"; readonly code: Code }
  | { readonly kind: "unacked"; readonly code: Code; readonly message: string };

/** One Append request as sent, every event with its event id and payload text. */
export interface SentAppend {
  readonly writer: number;
  readonly protocol: string;
  readonly events: readonly (NewEvent & { eventId: string; payload: string })[];
  /** Whether it touches a hot originator (which others may have moved on since). */
  readonly hot: boolean;
  /** How many kills happened before it was sent. */
  readonly epoch: number;
  outcome?: AppendOutcome;
}

/** A client of one writer and the protocol it speaks. */
export interface WriterClient {
  readonly protocol: string;
  readonly eventStore: EventStoreClient;
}

/** Running writers; `epoch` is raised by the test at each kill. */
export interface CrashWriters {
  readonly sent: readonly SentAppend[];
  epoch: number;
  /** How many requests of each outcome so far. */
  count(): { acked: number; refused: number; unacked: number; pending: number };
  /** Stops the writers after their current request and waits for them. */
  stop(): Promise<void>;
}

/** Options of {@link startCrashWriters}. */
export interface CrashWritersOptions {
  readonly clients: readonly WriterClient[];
  /** Prefix of every originator id. */
  readonly prefix: string;
  readonly seed: number;
  readonly hotOriginators?: number;
  /** Deadline of each Append, in ms. */
  readonly timeoutMs?: number;
}

const privatePerWriter = 3;
// While the store is down every call fails at once: pause, longer after each failure in a row (up to 250 ms), so that
// writers do not spin and the test keeps few requests that were merely refused a connection.
const pauseAfterFailureMs = (failuresInARow: number) => Math.min(250, 25 * 2 ** failuresInARow);

/** Starts one writer per client; they run until {@link CrashWriters.stop}. */
export function startCrashWriters(options: CrashWritersOptions): CrashWriters {
  const sent: SentAppend[] = [];
  const state = { stopped: false, epoch: 0 };
  const hot = Array.from({ length: options.hotOriginators ?? 3 }, (_, k) => `${options.prefix}-hot-${k}`);
  const running = options.clients.map((client, w) => runWriter(client, w, hot, options, state, sent));
  return {
    sent,
    get epoch() {
      return state.epoch;
    },
    set epoch(value: number) {
      state.epoch = value;
    },
    count() {
      const n = { acked: 0, refused: 0, unacked: 0, pending: 0 };
      for (const request of sent) n[request.outcome?.kind ?? "pending"]++;
      return n;
    },
    async stop() {
      state.stopped = true;
      await Promise.all(running);
    },
  };
}

async function runWriter(
  client: WriterClient,
  writer: number,
  hot: readonly string[],
  options: CrashWritersOptions,
  state: { stopped: boolean; epoch: number },
  sent: SentAppend[],
): Promise<void> {
  const random = mulberry32(options.seed * 1000 + writer);
  const between = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  let generation = 0;
  const fresh = () => `${options.prefix}-w${writer}-g${generation++}`;
  const own = Array.from({ length: privatePerWriter }, fresh);
  // Versions this writer knows; a hot originator missing here must be read before it is written.
  const known = new Map<string, bigint>();
  let sequence = 0;
  let failures = 0;
  const pause = () => new Promise((resolve) => setTimeout(resolve, pauseAfterFailureMs(failures++)));

  while (!state.stopped) {
    const roll = random();
    const privateParts = () =>
      [...own]
        .sort(() => random() - 0.5)
        .slice(0, between(1, 3))
        .map((id) => ({ originatorId: id, count: between(2, 6) }));
    const parts =
      roll < 0.35
        ? [{ originatorId: pick(own), count: 1 }]
        : roll < 0.5
          ? [{ originatorId: pick(hot), count: 1 }]
          : roll < 0.85
            ? privateParts()
            : [
                { originatorId: pick(hot), count: between(1, 3) },
                { originatorId: pick(own), count: between(2, 6) },
              ];
    const isHot = parts.some((p) => hot.includes(p.originatorId));

    try {
      for (const part of parts) {
        if (hot.includes(part.originatorId) && !known.has(part.originatorId)) {
          const stored = await client.eventStore.readEvents(part.originatorId, {}, { timeoutMs: options.timeoutMs });
          known.set(part.originatorId, stored.at(-1)?.originator?.version ?? 0n);
        }
      }
    } catch {
      await pause();
      continue;
    }

    const events = parts.flatMap((part) => {
      const first = (known.get(part.originatorId) ?? 0n) + 1n;
      return Array.from({ length: part.count }, (_, i) => ({
        originatorId: part.originatorId,
        version: first + BigInt(i),
        eventType: isHot ? "Counter.Incremented" : "Account.Deposited",
        // Varied bytes, so that comparing payloads byte for byte means something.
        payload: `{"writer":${writer}, "n":${sequence++}, "note":"é✓"}`,
        eventId: randomUUID(),
      }));
    });
    const request: SentAppend = { writer, protocol: client.protocol, events, hot: isHot, epoch: state.epoch };
    sent.push(request);
    try {
      const logIds = await client.eventStore.appendEvents(events, { timeoutMs: options.timeoutMs });
      request.outcome = { kind: "acked", logIds };
      failures = 0;
      for (const event of events) known.set(event.originatorId, event.version);
    } catch (error) {
      const failure = ConnectError.from(error);
      if (isRefusal(failure)) {
        request.outcome = { kind: "refused", code: failure.code };
        // Someone else wrote the hot originator first: read it again before the next write.
        for (const part of parts) if (hot.includes(part.originatorId)) known.delete(part.originatorId);
      } else {
        request.outcome = { kind: "unacked", code: failure.code, message: failure.rawMessage };
        // It may have been stored: leave its originators exactly as the crash left them.
        for (const part of parts) {
          known.delete(part.originatorId);
          const index = own.indexOf(part.originatorId);
          if (index >= 0) own[index] = fresh();
        }
        await pause();
      }
    }
  }
}

/**
 * Whether the store itself refused the request (a version conflict: nothing was stored), as opposed to a call that
 * failed on its way (a reset connection, a store that was down: `unavailable`) and may or may not have been stored.
 */
export function isRefusal(error: ConnectError): boolean {
  return error.code === Code.Aborted || error.code === Code.FailedPrecondition;
}
