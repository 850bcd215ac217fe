import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { Code, ConnectError } from "@eskit/client";
import { clientsFor, freePort, spawnEventStore, type SpawnedEventStore } from "./harness.js";
import { proxiedDatabase, type ProxiedDatabase } from "@eskit/test-kit/proxied-database.js";
import { runEventStoreProcess } from "@eskit/test-kit/run-process.js";
import { driverText } from "@eskit/test-kit/timed-call.js";

// The database is made unreachable with a TCP proxy that is not listening yet; PGlite runs inside the process.
const postgresUrl = process.env["DATABASE_URL"];
const skipReason = postgresUrl ? "" : " (skipped: needs PostgreSQL, set DATABASE_URL)";

interface LogLine {
  msg: string;
  level: string;
  attempt?: number;
  error?: string;
}

const logLines = (stdout: string): LogLine[] =>
  stdout
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as LogLine);

describe.skipIf(!postgresUrl)(`starting the event store before its database${skipReason}`, () => {
  let db: ProxiedDatabase | undefined;
  let store: SpawnedEventStore | undefined;

  afterEach(async () => {
    store?.kill("SIGKILL");
    await store?.stop();
    await db?.remove();
    store = undefined;
    db = undefined;
  });

  it("listens at once, answers /healthz 503 and calls unavailable, logs every attempt, and serves once the database is up", async () => {
    db = await proxiedDatabase(postgresUrl!);
    await db.proxy.cut();
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const starting = spawnEventStore({ DATABASE_URL: db.proxiedUrl, PORT: String(port) });
    starting.catch(() => {});

    // The server listens while the database is unreachable: it says so rather than refusing connections.
    let healthz: Response | undefined;
    for (const deadline = Date.now() + 20_000; healthz === undefined && Date.now() < deadline;) {
      healthz = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) }).catch(() => undefined);
      if (healthz === undefined) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(healthz?.status, "GET /healthz while the database is unreachable").toBe(503);
    expect(await healthz?.json()).toEqual({ status: "unavailable" });
    const clients = clientsFor(url, "grpc");
    try {
      const refused = await clients.eventStore.getHead({}, { timeoutMs: 5000 }).then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
      expect(refused?.code).toBe(Code.Unavailable);
      expect(refused?.rawMessage).not.toMatch(driverText);

      await new Promise((resolve) => setTimeout(resolve, 2_000));
      await db.proxy.restore();
      const restoredAt = Date.now();
      store = await starting;
      // The backoff is capped at 5 s and only 2 s passed: the next attempt comes within about a second.
      expect(Date.now() - restoredAt).toBeLessThan(5_000);
      const [logId] = await clients.eventStore.appendEvents(
        [{ originatorId: "late-db", version: 1n, eventType: "Db.Arrived", payload: "{}", eventId: randomUUID() }],
        { timeoutMs: 5000 },
      );
      expect(logId).toBe(1n);
    } finally {
      clients.close();
    }
    const lines = logLines(store.stdout());
    const attempts = lines.filter((l) => l.msg === "database not reachable; retrying");
    expect(attempts.length, "failed attempts logged").toBeGreaterThanOrEqual(2);
    expect(attempts.map((l) => l.attempt)).toEqual(attempts.map((_, i) => i + 1));
    expect(attempts.every((l) => l.level === "warn")).toBe(true);
    expect(lines.map((l) => l.msg)).toContain("database ready");
  }, 60_000);

  it("exits 1 with a clear message once ESKIT_DB_STARTUP_TIMEOUT_MS has passed without the database", async () => {
    db = await proxiedDatabase(postgresUrl!);
    await db.proxy.cut();
    const started = Date.now();
    const outcome = await runEventStoreProcess({ DATABASE_URL: db.proxiedUrl, ESKIT_DB_STARTUP_TIMEOUT_MS: "3000" });
    const elapsed = Date.now() - started;
    expect(outcome.timedOut).toBe(false);
    expect(outcome.code, outcome.stderr).toBe(1);
    expect(elapsed).toBeGreaterThanOrEqual(3_000);
    expect(elapsed).toBeLessThan(20_000);
    const failed = logLines(outcome.stdout).find((l) => l.msg === "start-up failed");
    expect(failed?.error).toMatch(/the database was not reachable within 3000 ms \(ESKIT_DB_STARTUP_TIMEOUT_MS\)/u);
    expect(logLines(outcome.stdout).filter((l) => l.msg === "database not reachable; retrying").length).toBeGreaterThan(
      1,
    );
  }, 60_000);
});
