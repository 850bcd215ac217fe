import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestStorage, type TestStorage } from "../../test/harness.js";
import { ConcurrencyError } from "../domain/errors.js";
import type { StoredEvent } from "../domain/event.js";
import type { ValidEvent } from "../domain/validate-append.js";
import { validEvents, validRequest } from "../../test/support/valid-events.js";
import { type Database, openDatabase } from "../storage/database.js";
import { type AppendOutcome, appendBatch, checkedWriteSql } from "./append-batch.js";
import { readEvents } from "./read-events.js";
import { readLogRange } from "./read-log.js";

/** What a stored event must give back exactly. */
const storedFields = ({ originatorId, version, eventType, payload, metadata, eventId, occurredOn }: StoredEvent) => ({
  originatorId,
  version,
  eventType,
  payload,
  metadata,
  eventId,
  occurredOn,
});

// Large batches go by COPY on PostgreSQL (append-batch.ts's copiedWrite). Here every batch does (copyFrom 1), and
// must be decided exactly as the statement decides it, store exactly the same values, and answer the log ids its
// rows got. On PGlite, which has no COPY, the same batches take the statement: the tests hold there too.
describe("appendBatch by COPY", () => {
  let storage: TestStorage;
  let database: Database;
  /** The real database, with its COPYs counted (nothing else changes). */
  let counted: Database;
  let copies = 0;
  /** Batches the checked statement wrote (a COPY that PostgreSQL refused falls back to it). */
  let statements = 0;
  const request = validRequest;
  const byCopy = (requests: ValidEvent[][]) => appendBatch(counted, requests, undefined, 1);
  const byStatement = (requests: ValidEvent[][]) => appendBatch(counted, requests, undefined, Infinity);

  beforeAll(async () => {
    storage = await createTestStorage();
    database = await openDatabase({ ...storage.config, poolSize: 6 });
    const transaction = database.transaction;
    counted = {
      ...database,
      query: (text, params, signal, options) => {
        if (text === checkedWriteSql) statements++;
        return database.query(text, params, signal, options);
      },
      transaction:
        transaction &&
        ((work, signal) =>
          transaction((tx) => work({ ...tx, copyIn: (text, data) => (copies++, tx.copyIn(text, data)) }), signal)),
    };
  });
  afterAll(async () => {
    await database.close();
    await storage.remove();
  });

  it("is taken on PostgreSQL, and stores the log ids it answers", async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    copies = 0;
    statements = 0;
    const outcomes = await byCopy([request(a, 1n, 3), request(b, 1n, 2), request(a, 4n)]);
    expect([copies, statements]).toEqual(database.kind === "postgres" ? [1, 0] : [0, 1]);
    const answered = outcomes.flatMap((o) => ("logIds" in o ? o.logIds : []));
    expect(answered).toHaveLength(6);
    const entries = await readLogRange(database, answered[0]!, answered.at(-1)!, {}, 100);
    expect(entries.map((e) => e.id)).toEqual(answered);
    expect(entries.map((e) => `${e.event.originatorId === a ? "a" : "b"}${e.event.version}`)).toEqual([
      "a1",
      "a2",
      "a3",
      "b1",
      "b2",
      "a4",
    ]);
  });

  it("decides conflicts, gaps, retries and reused ids exactly as the statement does", async () => {
    const script = (prefix: string, ids: string[]): ValidEvent[][][] => [
      [request(`${prefix}a`, 1n, 2, ids.slice(0, 2)), request(`${prefix}b`, 1n)],
      [request(`${prefix}a`, 2n), request(`${prefix}a`, 3n), request(`${prefix}b`, 5n)],
      [request(`${prefix}a`, 1n, 2, ids.slice(0, 2)), request(`${prefix}b`, 2n, 2)],
      [request(`${prefix}c`, 1n, 1, [ids[0]!]), request(`${prefix}b`, 4n), request(`${prefix}b`, 4n)],
      [
        request(`${prefix}d`, 1n, 1, [ids[2]!]),
        request(
          `${prefix}e`,
          1n,
          1,
          [ids[2]!].map(() => randomUUID()),
        ),
      ],
      [request(`${prefix}f`, 1n, 1, [ids[2]!])],
    ];
    const shape = (outcome: AppendOutcome) =>
      "error" in outcome
        ? { error: outcome.error.constructor.name }
        : { written: outcome.written, events: outcome.logIds.length };
    const run = async (write: typeof byCopy) => {
      const ids = [randomUUID(), randomUUID(), randomUUID()];
      const answers: unknown[] = [];
      for (const batch of script(`${randomUUID()}-`, ids)) answers.push((await write(batch)).map(shape));
      return answers;
    };
    copies = 0;
    const copied = await run(byCopy);
    if (database.kind === "postgres") expect(copies).toBeGreaterThanOrEqual(4);
    const stated = await run(byStatement);
    expect(copied).toEqual(stated);
    expect(stated.flat()).toContainEqual({ error: "ConcurrencyError" });
    expect(stated.flat()).toContainEqual({ error: "VersionGapError" });
    expect(stated.flat()).toContainEqual({ error: "DuplicateEventError" });
    expect(stated.flat()).toContainEqual({ written: false, events: 2 });
  });

  it("stores every character COPY's text format escapes, and any other, exactly", async () => {
    const a = `${randomUUID()}\t\\x\n\r é 🎉`;
    const awkward = `tab\t backslash\\ newline\n return\r \\N \\. é 🎉 "quoted"`;
    const events = validEvents(
      [1n, 2n].map((version) => ({
        originatorId: a,
        version,
        eventType: "Copy.Checked",
        payload: JSON.stringify({ text: awkward, version: String(version) }),
        metadata: { "key\twith\\tab": awkward, plain: "x" },
      })),
    );
    statements = 0;
    const [outcome] = await byCopy([events]);
    expect(outcome).toMatchObject({ written: true });
    if (database.kind === "postgres") expect(statements).toBe(0);
    const stored = await readEvents(database, a, 1n, 0n);
    expect(stored.map(storedFields)).toEqual(events.map(storedFields));
  });

  it("leaves a payload with a lone surrogate to the statement, which stores or refuses it as it always did", async () => {
    const attempt = async (write: typeof byCopy) => {
      const a = randomUUID();
      const events = validEvents([
        { originatorId: a, version: 1n, eventType: "Copy.Checked", payload: `{"s":"\ud800"}`, metadata: {} },
      ]);
      try {
        await write([events]);
      } catch (error) {
        return { failed: (error as { code?: unknown }).code ?? String(error) };
      }
      return { payload: (await readEvents(database, a, 1n, 0n)).map((e) => e.payload) };
    };
    expect(await attempt(byCopy)).toEqual(await attempt(byStatement));
  });

  it("keeps every request's verdict when writers race on the same originators (no lost or doubled version)", async () => {
    const a = randomUUID();
    await byCopy([request(a, 1n)]);
    const rounds = 6;
    for (let v = 2n; v < 2n + BigInt(rounds); v++) {
      const results = await Promise.all(Array.from({ length: 4 }, () => byCopy([request(a, v, 2)])));
      const written = results.filter(([o]) => "logIds" in o! && o.written);
      expect(written).toHaveLength(1);
      for (const [o] of results) if (!("logIds" in o!)) expect(o!.error).toEqual(new ConcurrencyError(a, v, v + 1n));
      v++;
    }
    expect((await readEvents(database, a, 1n, 0n)).map((e) => e.version)).toEqual(
      Array.from({ length: rounds + 1 }, (_, i) => BigInt(i + 1)),
    );
  });

  it("is not sent when its callers are gone before it starts, and runs to its end once it has started", async () => {
    const gone = new AbortController();
    gone.abort(new Error("callers gone"));
    const a = randomUUID();
    await expect(appendBatch(database, [request(a, 1n, 2000)], gone.signal, 1)).rejects.toThrow("callers gone");
    expect(await readEvents(database, a, 1n, 0n)).toEqual([]);
    // Started, then given up on at any moment: a COPY is never cancelled half-way (it would break the connection).
    for (const delayMs of [0, 1, 2, 5, 10, 20]) {
      const b = randomUUID();
      const cancel = new AbortController();
      const running = appendBatch(database, [request(b, 1n, 2000)], cancel.signal, 1);
      setTimeout(() => cancel.abort(), delayMs);
      expect(await running).toMatchObject([{ written: true }]);
      expect(await readEvents(database, b, 1n, 0n)).toHaveLength(2000);
    }
    // The connections serve on.
    expect(await byCopy([request(randomUUID(), 1n, 3)])).toMatchObject([{ written: true }]);
  });
});
