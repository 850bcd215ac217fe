import { afterAll, describe, expect, it } from "vitest";
import { Code, ConnectError, createLogConsumer, type AppLogEntry } from "@eskit/client";
import { createNodeTransport } from "@eskit/client/node.js";
import {
  clientsFor,
  createTestStorage,
  protocols,
  spawnEventStore,
  type Clients,
  type SpawnedEventStore,
  type TestStorage,
} from "./harness.js";
import { bigintJson } from "@eskit/test-kit/append-workload.js";
import { isRefusal, startCrashWriters, type SentAppend } from "@eskit/test-kit/crash-writers.js";
import { startLogReader, type LogReader } from "./support/log-reader.js";
import { reconcileAppends } from "./support/reconcile-appends.js";

// The Event Store is killed with SIGKILL (no shutdown, nothing flushed) while writers append over all three protocols,
// then restarted on the same storage and port, several times. On PostgreSQL when DATABASE_URL is set, else on PGlite,
// whose data directory must recover from the crash too (fewer kills there: a PGlite start takes seconds).
const onPostgres = Boolean(process.env["DATABASE_URL"]);
const storageName = onPostgres ? "PostgreSQL" : "PGlite";
// A PGlite start after a crash recovers its data directory in WebAssembly: 7–23 s measured here on a busy machine.
const startTimeoutMs = 90_000;
const kills = onPostgres ? 3 : 2;
const writersPerProtocol = 3;
/** Acknowledged requests between a (re)start and the next kill, so that each kill lands in the middle of a load. */
const ackedPerEpoch = onPostgres ? 150 : 60;

const opened: Clients[] = [];
const connect = (url: string, protocol: (typeof protocols)[number]): Clients => {
  const c = clientsFor(url, protocol);
  opened.push(c);
  return c;
};
let storage: TestStorage | undefined;
let store: SpawnedEventStore | undefined;
/** Stops what runs in the background (readers, the consumer) even when the test failed half-way. */
const stopBackground = new AbortController();

afterAll(async () => {
  stopBackground.abort();
  for (const c of opened) c.close();
  store?.kill("SIGKILL");
  await store?.exited;
  await storage?.remove();
});

describe(`kill -9 of the Event Store under concurrent appends (${storageName})`, () => {
  it("keeps every acknowledged append once, stores unacknowledged ones wholly or not at all, and a retry with the same event ids makes them exactly-once", async () => {
    const seed = Number(process.env["ESKIT_TEST_SEED"] ?? Date.now() % 100_000);
    const context = `seed ${seed} (set ESKIT_TEST_SEED to repeat)`;
    storage = await createTestStorage();
    store = await spawnEventStore(storage.env, startTimeoutMs);
    const url = store.url;
    const restartEnv = { ...storage.env, PORT: String(store.port) };

    // Readers over each protocol that resume at their last id + 1 after a failure, and the consumer helper.
    const readers: Array<[string, LogReader]> = protocols.map((p) => [
      p,
      startLogReader(connect(url, p).eventStore, { reopenOn: [Code.Unavailable], reopenDelayMs: 100 }),
    ]);
    for (const [, reader] of readers) stopBackground.signal.addEventListener("abort", () => void reader.stop());
    const consumed: AppLogEntry[] = [];
    const stopConsumer = new AbortController();
    stopBackground.signal.addEventListener("abort", () => stopConsumer.abort());
    const consumerTransport = createNodeTransport({ baseUrl: url, protocol: "grpc" });
    stopBackground.signal.addEventListener("abort", () => consumerTransport.close());
    const consumer = createLogConsumer(consumerTransport).consume(
      {
        consumerId: "kill9",
        start: "beginning",
        saveEveryEntries: 50,
        saveIntervalMs: 100,
        reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
      },
      (entry) => void consumed.push(entry),
      { signal: stopConsumer.signal },
    );

    const writers = startCrashWriters({
      clients: protocols.flatMap((p) =>
        Array.from({ length: writersPerProtocol }, () => ({ protocol: p, eventStore: connect(url, p).eventStore })),
      ),
      prefix: "k9",
      seed,
      timeoutMs: 10_000,
    });
    const restartsMs: number[] = [];
    const logs: string[] = [];
    try {
      for (let kill = 0; kill < kills; kill++) {
        await waitForAcked(writers, ackedPerEpoch, 60_000);
        // A little randomness, so that kills land at different points of a request's life.
        await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 50)));
        store.kill("SIGKILL");
        expect(await store.exited, "the store ended by the signal, not by itself").toBeNull();
        logs.push(store.stdout());
        writers.epoch = kill + 1;
        const started = Date.now();
        store = await spawnEventStore(restartEnv, startTimeoutMs);
        restartsMs.push(Date.now() - started);
      }
      await waitForAcked(writers, ackedPerEpoch, 60_000);
    } finally {
      await writers.stop();
    }

    const sent = writers.sent;
    const checker = connect(url, "grpc").eventStore;
    const result = await reconcileAppends(checker, sent);
    expect(result.problems.slice(0, 20), context).toEqual([]);

    // The figures, per epoch (the life of one process): what its requests became.
    const figures = Array.from({ length: kills + 1 }, (_, epoch) => {
      const ofEpoch = sent.filter((r) => r.epoch === epoch);
      const kinds = (kind: string) => ofEpoch.filter((r) => r.outcome?.kind === kind);
      const unacked = kinds("unacked");
      return {
        epoch,
        sent: ofEpoch.length,
        acked: kinds("acked").length,
        refused: kinds("refused").length,
        unacked: unacked.length,
        // Unacknowledged because the store was down (the connection refused) or because the kill caught them.
        storeDown: unacked.filter(connectionRefused).length,
        unackedStored: unacked.filter((r) => result.unackedStored.has(r)).length,
        unackedCodes: countBy(unacked.map((r) => (r.outcome?.kind === "unacked" ? Code[r.outcome.code] : "?"))),
      };
    });
    console.info(`kill -9 on ${storageName}, ${context}: restarts ${restartsMs.join(", ")} ms`);
    console.info(JSON.stringify(figures));
    // A crash reaches clients as `unavailable` over every protocol: never as `aborted` (a version conflict, to be
    // answered by re-reading and writing on top) nor `canceled`, which is what Node's transports report by themselves.
    const unackedCodes = countBy(sent.flatMap((r) => (r.outcome?.kind === "unacked" ? [Code[r.outcome.code]] : [])));
    expect(Object.keys(unackedCodes), JSON.stringify(unackedCodes)).toEqual([Code[Code.Unavailable]]);
    // Every process but the last was killed with requests in flight; the writers contended for the hot originators.
    for (const f of figures.slice(0, kills)) {
      expect(f.acked, `acknowledged in epoch ${f.epoch}`).toBeGreaterThanOrEqual(ackedPerEpoch);
      expect(f.unacked - f.storeDown, `requests the kill of epoch ${f.epoch} caught in flight`).toBeGreaterThan(0);
    }
    expect(
      figures.reduce((n, f) => n + f.refused, 0),
      "conflicts on the hot originators",
    ).toBeGreaterThan(0);

    // Every reader, across the kills, got the log exactly once and in order.
    const logKeys = result.log.map(entryKey);
    await Promise.all(readers.map(([, r]) => r.waitForId(result.log.at(-1)!.id, 30_000)));
    await waitFor(() => consumed.at(-1)?.id === result.log.at(-1)!.id, 30_000, "the consumer to reach the head");
    for (const [protocol, reader] of readers) {
      expect(reader.failure, `reader over ${protocol}`).toBeUndefined();
      expect(reader.entries.map(entryKey), `reader over ${protocol}, ${context}`).toEqual(logKeys);
    }
    expect(consumed.map(entryKey), `the consumer helper over grpc, ${context}`).toEqual(logKeys);

    // A retry of every unacknowledged request with the same event ids: the original log ids when it was stored;
    // stored now when it was not (a hot originator may have moved on, which is a refusal, and stores nothing).
    const retried = await retryUnacked(checker, result.unackedAbsent, result.unackedStored);
    expect(retried.problems.slice(0, 20), context).toEqual([]);
    const after = await reconcileAppends(checker, sent.map(withRetryOutcome(retried.outcomes)));
    expect(after.problems.slice(0, 20), context).toEqual([]);
    expect(after.unackedStored.size + after.unackedAbsent.length, "no request left in doubt").toBe(0);
    const storedEvents = sent
      .filter((r) => (retried.outcomes.get(r) ?? r.outcome)?.kind === "acked")
      .reduce((n, r) => n + r.events.length, 0);
    expect(after.log.length).toBe(storedEvents);
    console.info(
      `retries of ${result.unackedStored.size + result.unackedAbsent.length} unacknowledged requests: ` +
        `${result.unackedStored.size} were stored (same ids returned), ${retried.storedNow} stored now, ` +
        `${retried.refusedNow} refused (hot originator moved on); log ${after.log.length} entries`,
    );

    // The readers and the consumer see the retried requests too, still exactly once.
    const finalKeys = after.log.map(entryKey);
    await Promise.all(readers.map(([, r]) => r.waitForId(after.log.at(-1)!.id, 30_000)));
    await waitFor(() => consumed.at(-1)?.id === after.log.at(-1)!.id, 30_000, "the consumer to reach the head");
    for (const [protocol, reader] of readers) {
      expect(reader.entries.map(entryKey), `reader over ${protocol} after the retries`).toEqual(finalKeys);
      await reader.stop();
    }
    expect(consumed.map(entryKey)).toEqual(finalKeys);
    stopConsumer.abort();
    const summary = await consumer;
    consumerTransport.close();
    // Its saved offset is where it stopped: a consumer started again resumes right after the last entry.
    expect(summary.offset).toBe(after.log.at(-1)!.id);
    expect((await connect(url, "grpc").consumers.getOffset("kill9"))?.offset).toBe(after.log.at(-1)!.id);
    console.info(`reader reopenings: ${readers.map(([p, r]) => `${p} ${r.reopenings}`).join(", ")}`);

    await store.stop();
    logs.push(store.stdout());
    store = undefined;
    // Crashes, restarts and refused connections are no fault of the store's own: none of its processes logged an error.
    const errorLines = logs.flatMap((l) => l.split("\n")).filter((line) => line.includes('"level":"error"'));
    expect(errorLines.slice(0, 10)).toEqual([]);
  }, 300_000);
});

interface RetryResult {
  problems: string[];
  outcomes: Map<SentAppend, NonNullable<SentAppend["outcome"]>>;
  storedNow: number;
  refusedNow: number;
}

/** Sends every unacknowledged request again, as it was; a request that was stored must get its original log ids. */
async function retryUnacked(
  client: Clients["eventStore"],
  absent: readonly SentAppend[],
  stored: ReadonlyMap<SentAppend, bigint[]>,
): Promise<RetryResult> {
  const result: RetryResult = { problems: [], outcomes: new Map(), storedNow: 0, refusedNow: 0 };
  const retry = async (request: SentAppend): Promise<void> => {
    const label = `retry of a request of writer ${request.writer} (${request.protocol}, epoch ${request.epoch})`;
    try {
      const logIds = await client.appendEvents(request.events, { timeoutMs: 30_000 });
      result.outcomes.set(request, { kind: "acked", logIds });
      const original = stored.get(request);
      if (original === undefined) result.storedNow++;
      else if (JSON.stringify(original, bigintJson) !== JSON.stringify(logIds, bigintJson)) {
        result.problems.push(`${label}: stored as ${original.join(",")}, the retry answered ${logIds.join(",")}`);
      }
    } catch (error) {
      const failure = ConnectError.from(error);
      result.outcomes.set(request, { kind: "refused", code: failure.code });
      result.refusedNow++;
      if (stored.has(request) || !request.hot || !isRefusal(failure)) {
        result.problems.push(`${label}: ${Code[failure.code]} ${failure.rawMessage}`);
      }
    }
  };
  // Unacknowledged requests share no originator of their own (see crash-writers.ts): they may be retried at once.
  const queue = [...stored.keys(), ...absent];
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let request = queue.shift(); request !== undefined; request = queue.shift()) await retry(request);
    }),
  );
  return result;
}

function withRetryOutcome(outcomes: ReadonlyMap<SentAppend, NonNullable<SentAppend["outcome"]>>) {
  return (request: SentAppend): SentAppend => {
    const outcome = outcomes.get(request);
    return outcome === undefined ? request : { ...request, outcome };
  };
}

function connectionRefused(request: SentAppend): boolean {
  return request.outcome?.kind === "unacked" && request.outcome.message.includes("ECONNREFUSED");
}

function entryKey(entry: AppLogEntry): string {
  return `${entry.id}:${entry.event?.eventId}`;
}

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}

async function waitForAcked(writers: { count(): { acked: number } }, more: number, timeoutMs: number): Promise<void> {
  const target = writers.count().acked + more;
  await waitFor(() => writers.count().acked >= target, timeoutMs, `${more} more acknowledged appends`);
}

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
