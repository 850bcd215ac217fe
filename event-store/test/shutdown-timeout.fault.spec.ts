import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { clientsFor, spawnEventStore, type SpawnedEventStore } from "./harness.js";
import { proxiedDatabase, type ProxiedDatabase } from "@eskit/test-kit/proxied-database.js";

// An append is kept in flight by holding, from the test, the lock every append takes: PostgreSQL only.
const postgresUrl = process.env["DATABASE_URL"];
const skipReason = postgresUrl ? "" : " (skipped: needs PostgreSQL, set DATABASE_URL)";

describe.skipIf(!postgresUrl)(`stopping the event store with a long shutdown timeout${skipReason}`, () => {
  let db: ProxiedDatabase | undefined;
  let store: SpawnedEventStore | undefined;

  afterEach(async () => {
    store?.kill("SIGKILL");
    await store?.stop();
    await db?.remove();
    store = undefined;
    db = undefined;
  });

  it("waits ESKIT_SHUTDOWN_TIMEOUT_MS=20000 for an append in flight for 13 s, answers it, and exits 0", async () => {
    db = await proxiedDatabase(postgresUrl!);
    store = await spawnEventStore({ DATABASE_URL: db.proxiedUrl, ESKIT_SHUTDOWN_TIMEOUT_MS: "20000" });
    const running = store;
    const clients = clientsFor(running.url, "grpc");
    try {
      await clients.eventStore.getHead({}, { timeoutMs: 5000 });
      const stallMs = 13_000;
      const { released } = await db.stallAppends(stallMs);
      const sentAt = Date.now();
      const append = clients.eventStore.appendEvents(
        [{ originatorId: "slow-1", version: 1n, eventType: "Slow.Written", payload: "{}", eventId: randomUUID() }],
        { timeoutMs: 60_000 },
      );
      append.catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, 300));
      running.kill("SIGTERM");
      const code = await running.exited;
      const elapsed = Date.now() - sentAt;
      await released;
      expect(code, `exit code; stdout:\n${running.stdout().slice(-2000)}`).toBe(0);
      // Past the 10 s a stop used to be allowed whatever the setting, and before the 20 s of the setting.
      expect(elapsed).toBeGreaterThanOrEqual(stallMs - 500);
      expect(elapsed).toBeLessThan(20_000);
      expect(await append).toEqual([1n]);
    } finally {
      clients.close();
    }
  }, 60_000);
});
