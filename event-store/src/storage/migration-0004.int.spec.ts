import { randomUUID } from "node:crypto";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestStorage, type TestStorage } from "../../test/harness.js";
import { validRequest } from "../../test/support/valid-events.js";
import { AppendBatcher } from "../store/append-batcher.js";
import { connectDatabase, type Database, openDatabase } from "./database.js";

// Migration 0004's NOTIFY names the last log id, which it reads from the id sequence: a read that needs a privilege
// on the sequence that drawing ids does not. An Event Store whose role may only insert into and read the table (the
// schema migrated by another role) must still append, and hear the id. Roles exist on PostgreSQL only.
describe.skipIf(process.env.DATABASE_URL === undefined)("migration 0004 with a role that may only insert", () => {
  let storage: TestStorage;
  let owner: Database;
  let admin: postgres.Sql;
  const role = `eskit_writer_${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    storage = await createTestStorage();
    owner = await openDatabase({ ...storage.config, poolSize: 2 });
    admin = postgres(storage.config.databaseUrl!, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create role ${role} login`);
    await admin.unsafe(`grant usage on schema public to ${role}`);
    await admin.unsafe(`grant select, insert on events to ${role}`);
  });
  afterAll(async () => {
    await owner.close();
    await admin.unsafe(`drop owned by ${role}`);
    await admin.unsafe(`drop role ${role}`);
    await admin.end();
    await storage.remove();
  });

  it("appends, and the NOTIFY names the appended entries' last log id", async () => {
    const url = new URL(storage.config.databaseUrl!);
    url.username = role;
    url.password = "";
    const writer = await connectDatabase({ databaseUrl: url.toString(), dataDir: "", poolSize: 2 });
    try {
      const payloads: string[] = [];
      await owner.listen(
        "eskit_app_log",
        (payload) => payloads.push(payload),
        () => {},
      );
      const batcher = new AppendBatcher(writer, { parallelism: 1, maxBatchEvents: 100, onCommit: () => {} });
      const ids = await batcher.append(validRequest(randomUUID(), 1n, 3));
      await expect.poll(() => payloads, { timeout: 5000 }).toContain(String(ids.at(-1)));
    } finally {
      await writer.close();
    }
  });
});
