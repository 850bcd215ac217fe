import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestStorage, type TestStorage } from "../../test/harness.js";
import { type Database, openDatabase } from "./database.js";

// Cancelling a running statement is a PostgreSQL cancel request; PGlite runs statements inside the process.
const postgresUrl = process.env["DATABASE_URL"];
const skipReason = postgresUrl ? "" : " (skipped: needs PostgreSQL, set DATABASE_URL)";

describe.skipIf(!postgresUrl)(`a statement's signal${skipReason}`, () => {
  let storage: TestStorage;
  let database: Database;

  beforeAll(async () => {
    storage = await createTestStorage();
    database = await openDatabase({ ...storage.config, poolSize: 2 });
  });
  afterAll(async () => {
    await database?.close();
    await storage?.remove();
  });

  it("cancels the running statement in PostgreSQL when it aborts (57014), and the connection serves the next", async () => {
    const started = performance.now();
    const error = await database.query("select pg_sleep(10)", [], AbortSignal.timeout(200)).catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe("57014");
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(await database.query<{ one: number }>("select 1 as one", [])).toEqual([{ one: 1 }]);
  });

  it("cancels a statement pipelined behind a busy one as soon as it starts", async () => {
    const busy = [database.query("select pg_sleep(1)", []), database.query("select pg_sleep(1)", [])];
    const started = performance.now();
    const error = await database.query("select pg_sleep(2)", [], AbortSignal.timeout(100)).catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe("57014");
    // Run to its end it would have taken 3 s: behind 1 s of sleep, then its own 2 s.
    expect(performance.now() - started).toBeLessThan(2_500);
    await Promise.all(busy);
  });

  it("does not send a statement whose signal aborted already", async () => {
    const error = await database.query("select 3", [], AbortSignal.abort()).catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe("57014");
  });
});
