import { createClient } from "@connectrpc/connect";
import { CrudStoreService } from "@eskit/gen/eskit/crudstore/v1/crud_store_pb.js";
import { afterAll, describe, expect, it } from "vitest";
import {
  createTestStorage,
  protocols,
  spawnEventStore,
  type SpawnedEventStore,
  type TestStorage,
} from "@eskit/test-kit/event-store.js";
import { spawnService, type SpawnedService } from "@eskit/test-kit/service-process.js";
import { transportFor } from "./harness.js";
import { startDocumentWriters } from "./support/crash-document-writers.js";
import { freshType } from "./support/documents.js";
import { reconcileDocuments } from "./support/reconcile-documents.js";
import type { NodeTransport } from "@eskit/client/node.js";

// Both stores run as processes and are killed with SIGKILL in turn (the Crud Store, the Event Store, then both) while
// writers create and update documents over all three protocols; each is restarted on the same port (and the Event
// Store on the same storage). On PostgreSQL when DATABASE_URL is set, else on PGlite.
const onPostgres = Boolean(process.env["DATABASE_URL"]);
const storageName = onPostgres ? "PostgreSQL" : "PGlite";
// A PGlite start after a crash recovers its data directory in WebAssembly: 7–23 s measured here on a busy machine.
const startTimeoutMs = 90_000;
const writersPerProtocol = 2;
const ackedPerEpoch = onPostgres ? 40 : 25;
type Victim = "crud-store" | "event-store";
const victims: ReadonlyArray<readonly Victim[]> = [["crud-store"], ["event-store"], ["crud-store", "event-store"]];

const transports: NodeTransport[] = [];
let storage: TestStorage | undefined;
let eventStore: SpawnedEventStore | undefined;
let crudStore: SpawnedService | undefined;

afterAll(async () => {
  for (const t of transports) t.close();
  for (const service of [crudStore, eventStore]) {
    service?.kill("SIGKILL");
    await service?.exited;
  }
  await storage?.remove();
});

function crudClient(url: string, protocol: (typeof protocols)[number]) {
  const transport = transportFor(url, protocol);
  transports.push(transport);
  return createClient(CrudStoreService, transport);
}

describe(`kill -9 of the Crud Store and the Event Store under concurrent writes (${storageName})`, () => {
  it("Get at every version returns the acknowledged document, or an unacknowledged write of that version, nothing else", async () => {
    const seed = Number(process.env["ESKIT_TEST_SEED"] ?? Date.now() % 100_000);
    const context = `seed ${seed} (set ESKIT_TEST_SEED to repeat)`;
    storage = await createTestStorage();
    eventStore = await spawnEventStore(storage.env, startTimeoutMs);
    const eventStoreEnv = { ...storage.env, PORT: String(eventStore.port) };
    // Snapshots every 3 versions, so that reading old versions goes through snapshots written across the kills.
    const crudEnv = { EVENT_STORE_URL: eventStore.url, ESKIT_SNAPSHOT_EVERY: "3" };
    crudStore = await spawnService({ entry: "crud-store/src/main.ts", env: crudEnv, startTimeoutMs });
    const crudRestartEnv = { ...crudEnv, PORT: String(crudStore.port) };
    const url = crudStore.url;

    const entityType = freshType("kill");
    const writers = startDocumentWriters({
      clients: protocols.flatMap((protocol) =>
        Array.from({ length: writersPerProtocol }, () => ({ protocol, crud: crudClient(url, protocol) })),
      ),
      entityType,
      seed,
      timeoutMs: 10_000,
    });
    const epochs: Array<ReturnType<typeof writers.count> & { killed: string }> = [];
    const logs: string[] = [];
    try {
      for (const [epoch, killed] of victims.entries()) {
        const before = writers.count().acked;
        await waitFor(() => writers.count().acked >= before + ackedPerEpoch, 60_000, "acknowledged writes");
        await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 50)));
        const dying = killed.map((name) => (name === "crud-store" ? crudStore! : eventStore!));
        for (const service of dying) service.kill("SIGKILL");
        await Promise.all(dying.map((service) => service.exited));
        logs.push(...dying.map((service) => service.stdout()));
        epochs.push({ ...writers.count(), killed: killed.join("+") });
        writers.epoch = epoch + 1;
        // The Event Store first: a Crud Store is healthy only once its Event Store answers.
        if (killed.includes("event-store")) eventStore = await spawnEventStore(eventStoreEnv, startTimeoutMs);
        if (killed.includes("crud-store"))
          crudStore = await spawnService({ entry: "crud-store/src/main.ts", env: crudRestartEnv, startTimeoutMs });
      }
      const before = writers.count().acked;
      await waitFor(
        () => writers.count().acked >= before + ackedPerEpoch,
        60_000,
        "acknowledged writes after the last restart",
      );
    } finally {
      await writers.stop();
    }

    expect(writers.anomalies.slice(0, 10), context).toEqual([]);
    const result = await reconcileDocuments(crudClient(url, "grpc"), entityType, writers.documents.values());
    const totals = writers.count();
    console.info(
      `Crud Store kill -9 on ${storageName}, ${context}: writes so far at each kill ${JSON.stringify(epochs)}; in all ${JSON.stringify(totals)}; ` +
        `${writers.documents.size} documents, ${result.versionsChecked} versions read back, unacknowledged writes ` +
        `kept ${result.unackedKept}, absent ${result.unackedAbsent}`,
    );
    expect(result.problems.slice(0, 20), context).toEqual([]);
    // A crash of either store reaches clients as `unavailable`, never as a conflict (`aborted`) or `canceled`.
    expect(Object.keys(totals.unackedCodes), JSON.stringify(totals.unackedCodes)).toEqual(["Unavailable"]);
    expect(totals.refused, "conflicts on the shared documents").toBeGreaterThan(0);
    expect(totals.unacked, "writes the kills left unacknowledged").toBeGreaterThan(0);
    expect(result.unackedKept + result.unackedAbsent).toBe(totals.unacked);

    await crudStore.stop();
    await eventStore.stop();
    logs.push(crudStore.stdout(), eventStore.stdout());
    crudStore = undefined;
    eventStore = undefined;
    // A store that crashed, or whose Event Store did, is no fault of the other's: no process logged an error.
    const errorLines = logs.flatMap((l) => l.split("\n")).filter((line) => line.includes('"level":"error"'));
    expect(errorLines.slice(0, 10)).toEqual([]);
  }, 300_000);
});

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
