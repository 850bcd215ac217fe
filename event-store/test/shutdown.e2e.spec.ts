import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { Code, ConnectError, HealthCheckResponse_ServingStatus } from "@eskit/client";
import { clientsFor, spawnEventStore, type Clients, type SpawnedEventStore } from "./harness.js";
import { startLogReader } from "./support/log-reader.js";
import { runEventStoreProcess } from "@eskit/test-kit/run-process.js";

// The process runs on PGlite, or on a fresh PostgreSQL database when DATABASE_URL is set (see the harness).

describe("stopping the event store process", () => {
  let store: SpawnedEventStore | undefined;
  const clients: Clients[] = [];

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    if (store !== undefined) {
      // Whatever the test did, do not leave a process behind.
      store.kill("SIGKILL");
      await store.stop();
      store = undefined;
    }
  });

  it("SIGTERM ends an open LogsPoll stream with unavailable, closes idle HTTP/2 connections and exits 0 within 10 s", async () => {
    store = await spawnEventStore();
    const running = store;
    const streaming = clientsFor(running.url, "grpc");
    const idle = clientsFor(running.url, "grpc");
    clients.push(streaming, idle);

    const reader = startLogReader(streaming.eventStore, { fromId: 0n });
    const [logId] = await idle.eventStore.appendEvents([
      { originatorId: "door-1", version: 1n, eventType: "Door.Opened", payload: "{}", eventId: randomUUID() },
    ]);
    await reader.waitForId(logId!, 10_000);
    // The idle client keeps its HTTP/2 session open after a call, as a pooled client would.
    const health = await idle.health.check({ service: "" });
    expect(health.status).toBe(HealthCheckResponse_ServingStatus.SERVING);

    const sentAt = Date.now();
    running.kill("SIGTERM");
    const code = await Promise.race([
      running.exited,
      new Promise<"still running">((resolve) => setTimeout(() => resolve("still running"), 12_000)),
    ]);
    const elapsed = Date.now() - sentAt;
    expect(code, `exit code; stderr:\n${running.stderr()}`).toBe(0);
    expect(elapsed).toBeLessThan(10_000);

    // The stream ended (it does not hang once the server is gone), and with the code that tells clients to retry.
    const ended = await Promise.race([
      reader.finished.then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), 2_000)),
    ]);
    expect(ended, "the LogsPoll stream is still open after the process exited").toBe(true);
    expect(reader.endedCleanly, "a LogsPoll stream must not end as if the log were complete").toBe(false);
    expect(ConnectError.from(reader.failure).code).toBe(Code.Unavailable);
    expect(reader.entries.map((e) => e.id)).toEqual([logId]);

    const logLines = running
      .stdout()
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => (JSON.parse(line) as { msg?: string }).msg);
    expect(logLines).toContain("stopping");
    expect(logLines).toContain("event store stopped");
    store = undefined;
  }, 60_000);
});

describe("starting with a bad configuration", () => {
  it.each<{ env: Record<string, string>; named: string[] }>([
    { env: { PORT: "abc" }, named: ["PORT"] },
    { env: { PORT: "70000" }, named: ["PORT"] },
    { env: { DATABASE_URL: "mysql://localhost/db" }, named: ["DATABASE_URL"] },
    { env: { LOG_LEVEL: "loud", ESKIT_DB_POOL_SIZE: "0" }, named: ["LOG_LEVEL", "ESKIT_DB_POOL_SIZE"] },
  ])(
    "exits with code 2 and names $named on stderr for $env",
    async ({ env, named }) => {
      const outcome = await runEventStoreProcess(env);
      expect(outcome.timedOut, "the process kept running with a bad configuration").toBe(false);
      expect(outcome.code, `stderr:\n${outcome.stderr}`).toBe(2);
      for (const name of named) {
        const value = env[name]!;
        expect(outcome.stderr).toContain(name);
        expect(outcome.stderr).toContain(JSON.stringify(value));
      }
    },
    60_000,
  );
});
