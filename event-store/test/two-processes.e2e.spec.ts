import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  clientsFor,
  dropDatabase,
  freshDatabaseUrl,
  spawnEventStore,
  type Clients,
  type SpawnedEventStore,
} from "./harness.js";
import { runAppendWorkload } from "@eskit/test-kit/append-workload.js";
import { expectHistoriesMatchAcked, expectLogMatchesAcked } from "./support/log-checks.js";
import { startLogReader } from "./support/log-reader.js";

// Two processes can only share a PostgreSQL database: PGlite is embedded in one process.
const postgresUrl = process.env["DATABASE_URL"];
const skipReason = postgresUrl ? "" : " (skipped: needs PostgreSQL, set DATABASE_URL)";

const writerCount = 8;
const eventsPerWriter = 400;

describe.skipIf(!postgresUrl)(`two event-store processes on one PostgreSQL database${skipReason}`, () => {
  let databaseUrl: string | undefined;
  const processes: SpawnedEventStore[] = [];
  const clients: Clients[] = [];
  const connect = (store: SpawnedEventStore): Clients => {
    const c = clientsFor(store.url, "grpc");
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    databaseUrl = await freshDatabaseUrl(postgresUrl);
    // Started together, so their start-up migrations race as they would in a rolling deployment.
    processes.push(
      ...(await Promise.all([
        spawnEventStore({ DATABASE_URL: databaseUrl }),
        spawnEventStore({ DATABASE_URL: databaseUrl }),
      ])),
    );
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await Promise.all(processes.map((p) => p.stop()));
    if (databaseUrl !== undefined) await dropDatabase(databaseUrl);
  });

  it("a LogsPoll reader on each process receives every acknowledged event once, in id order, the same sequence", async () => {
    const [a, b] = processes as [SpawnedEventStore, SpawnedEventStore];
    const readers = [startLogReader(connect(a).eventStore), startLogReader(connect(b).eventStore)];
    try {
      // A marker written through one process and seen by both readers proves both streams are live.
      const marker = {
        originatorId: "marker",
        version: 1n,
        eventType: "Marker.Placed",
        payload: "{}",
        eventId: randomUUID(),
      };
      const [markerLogId] = await connect(a).eventStore.appendEvents([marker]);
      await Promise.all(readers.map((r) => r.waitForId(markerLogId!, 10_000)));

      const seed = Number(process.env["ESKIT_TEST_SEED"] ?? Date.now() % 100_000);
      const writers = Array.from({ length: writerCount }, (_, i) => connect(i % 2 === 0 ? a : b).eventStore);
      const result = await runAppendWorkload({ clients: writers, eventsPerWriter, prefix: "two", seed });
      result.acked.set(marker.eventId, { ...marker, logId: markerLogId! });

      const context = `seed ${seed} (set ESKIT_TEST_SEED to repeat)`;
      expect(result.acked.size, context).toBeGreaterThanOrEqual(writerCount * eventsPerWriter + 1);
      expect(result.conflicts, `conflicts across the processes, ${context}`).toBeGreaterThan(0);
      expect(result.spuriousConflicts, context).toBe(0);

      const lastAcked = [...result.acked.values()].reduce((x, e) => (e.logId > x ? e.logId : x), 0n);
      await Promise.all(readers.map((r) => r.waitForId(lastAcked, 20_000)));
      await new Promise((resolve) => setTimeout(resolve, 300));
      for (const [i, reader] of readers.entries()) {
        expect(reader.failure, `reader on process ${i}`).toBeUndefined();
        expectLogMatchesAcked(reader.entries, result.acked, result.rejectedEventIds);
      }
      const sequence = (i: number) => readers[i]!.entries.map((e) => `${e.id}:${e.event?.eventId}`);
      expect(sequence(1)).toEqual(sequence(0));

      await expectHistoriesMatchAcked(connect(a).eventStore, result.acked);
      await expectHistoriesMatchAcked(connect(b).eventStore, result.acked);
    } finally {
      await Promise.all(readers.map((r) => r.stop()));
    }
  }, 120_000);
});
