import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestStorage, type TestStorage } from "../../test/harness.js";
import { validateAppend } from "../domain/validate-append.js";
import { type Database, openDatabase } from "../storage/database.js";
import { AppendBatcher } from "./append-batcher.js";
import { listOriginators, listOriginatorsSql } from "./list-originators.js";

// List's cost must not grow with the events per originator nor with other types' events: the plan must walk the
// partial index of first events and take one index step per originator, never scan events.
describe("listOriginators", () => {
  let storage: TestStorage;
  let database: Database;

  beforeAll(async () => {
    storage = await createTestStorage();
    database = await openDatabase({ ...storage.config, poolSize: 2 });
    const batcher = new AppendBatcher(database, { parallelism: 1, maxBatchEvents: 5000, onCommit: () => {} });
    const limits = { maxEventBytes: 1 << 20, maxRequestBytes: 4 << 20, maxEvents: 5000 };
    // A long history for a few originators, and many originators of another type.
    for (const id of ["a", "b", "c"]) {
      await batcher.append(
        validateAppend(
          Array.from({ length: 300 }, (_, v) => ({
            originatorId: `doc-${id}`,
            version: BigInt(v + 1),
            eventType: v === 0 ? "Doc.Created" : "Doc.Updated",
            payload: "{}",
            metadata: {},
          })),
          limits,
        ),
      );
    }
    await batcher.append(
      validateAppend(
        Array.from({ length: 2000 }, (_, i) => ({
          originatorId: `other-${i}`,
          version: 1n,
          eventType: "Other.Created",
          payload: "{}",
          metadata: {},
        })),
        limits,
      ),
    );
    await database.query("analyze events", []);
  });
  afterAll(async () => {
    await database.close();
    await storage.remove();
  });

  it("returns the originators of the type with their latest version", async () => {
    const list = await listOriginators(database, "Doc", "", 10, undefined);
    expect(list.map((o) => [o.id, o.version, o.lastEventType])).toEqual([
      ["doc-a", 300n, "Doc.Updated"],
      ["doc-b", 300n, "Doc.Updated"],
      ["doc-c", 300n, "Doc.Updated"],
    ]);
  });

  it("walks the index of first events and never scans the events table", async () => {
    const [row] = await database.query<Record<string, unknown>>(`explain (format json) ${listOriginatorsSql}`, [
      "Doc",
      "",
      "Doc.Deleted",
      10,
    ]);
    const plan = JSON.stringify(row);
    expect(plan).toContain("events_entity_type_first_idx");
    expect(plan).toContain("events_originator_version_key");
    expect(plan).not.toContain("Seq Scan");
  });
});
