import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestStorage, type TestStorage } from "../../test/harness.js";
import type { Instant, LogEntry, NewEvent } from "../domain/event.js";
import { validateAppend } from "../domain/validate-append.js";
import { type Database, openDatabase } from "../storage/database.js";
import { noMetadata } from "../storage/event-row-text.js";
import { appendBatchInTransaction } from "./append-batch-drizzle.js";
import { AppendBatcher } from "./append-batcher.js";
import { committedEntries, firstLogId, type WrittenRequest } from "./committed-entries.js";
import { readLogRange } from "./read-log.js";

const limits = { maxEventBytes: 1 << 20, maxRequestBytes: 4 << 20, maxEvents: 1000 };

/** Text without NUL (which no stored string can hold) and without lone surrogates (which PostgreSQL refuses). */
const text = (maxLength: number) => fc.string({ unit: "grapheme", maxLength }).filter((s) => !s.includes("\u0000"));

/**
 * Metadata keys that jsonb orders apart from JavaScript: integer-like keys (which JavaScript puts first whatever the
 * order they were set in), keys whose UTF-8 length differs from their UTF-16 length, keys of one UTF-8 length whose
 * bytes order apart from their UTF-16 code units ("😀" is a surrogate pair, below U+FF21 in UTF-16 but above it in
 * UTF-8), and any others.
 */
const metadataKey = fc.oneof(
  fc.constantFrom(
    "1",
    "10",
    "2",
    "0",
    "01",
    "4294967295",
    "é",
    "ab",
    "z",
    "日本",
    "a",
    "A",
    "ü",
    "é1",
    "constructor",
    "😀",
    "Ａa",
  ),
  text(4).filter((s) => s.length > 0 && s !== "__proto__"),
);
const metadata = fc
  .uniqueArray(fc.tuple(metadataKey, text(8)), { maxLength: 5, selector: ([key]) => key })
  .map((entries) => Object.fromEntries(entries) as Record<string, string>);

/** A name segment of an event type: no dot, white space, control character or `*`. */
const segment = fc.string({
  unit: fc.constantFrom("a", "Z", "é", "日", "_", "-", "0", "😀", "$"),
  minLength: 1,
  maxLength: 5,
});
/** `<EntityType>.<Action>`, the entity type itself dotted at times (the action never is: the split is at the last dot). */
const eventType = fc.oneof(
  fc.constantFrom("Entity.Action", "com.acme.User.Created", "Ünïcode.Δ", "日本.書いた"),
  fc
    .tuple(fc.array(segment, { minLength: 1, maxLength: 3 }), segment)
    .map(([entity, action]) => [...entity, action].join(".")),
);
/** Payloads as the client sends them, kept as text: any JSON, unicode and escapes in it, spacing, or empty. */
const payload = fc.oneof(
  fc.json(),
  text(20).map((s) => JSON.stringify({ s, n: [1, 2.5, null] })),
  fc.constantFrom("", '{ "spaced" : true }', '"\\u00e9\\n\\t"', "[]", '{"tab":"\\t","back":"\\\\"}'),
);
const occurredOn: fc.Arbitrary<Instant | undefined> = fc.option(
  fc.record({
    seconds: fc.bigInt({ min: -62_135_596_800n, max: 253_402_300_799n }),
    nanos: fc.integer({ min: 0, max: 999_999_999 }),
  }),
  { nil: undefined },
);
/** How the client gives the event id: not at all (the server makes one), upper case, or lower case. */
const eventIdCase = fc.constantFrom("none", "upper", "lower");

const event = fc.record({ eventType, payload, metadata, occurredOn, eventIdCase });
/** One Append request: events of one originator (its id ends in any text), at versions 1, 2, ... */
const request = fc.record({ originatorSuffix: text(6), events: fc.array(event, { minLength: 1, maxLength: 4 }) });
type RequestCase = typeof request extends fc.Arbitrary<infer R> ? R : never;

/** The request as a client sends it. */
function newEvents(r: RequestCase): NewEvent[] {
  const originatorId = `${randomUUID()}${r.originatorSuffix}`;
  return r.events.map((e, i) => {
    // Event ids are made here rather than by fast-check, whose biased uuids repeat across runs (and would be replays).
    const id = randomUUID();
    return {
      originatorId,
      version: BigInt(i + 1),
      eventType: e.eventType,
      payload: e.payload,
      metadata: e.metadata,
      ...(e.occurredOn === undefined ? {} : { occurredOn: e.occurredOn }),
      ...(e.eventIdCase === "none" ? {} : { eventId: e.eventIdCase === "upper" ? id.toUpperCase() : id }),
    };
  });
}

// The local log tail puts the entries this process commits into its ring without reading them back
// (committed-entries.ts): they must be exactly what a read of the log returns for the same ids, down to the order of
// the metadata's keys (a client that prints or hashes the map sees it), for any events a client may append.
describe("committedEntries", () => {
  let storage: TestStorage;
  let database: Database;

  beforeAll(async () => {
    storage = await createTestStorage();
    database = await openDatabase({ ...storage.config, dataDir: storage.config.dataDir, poolSize: 4 });
  });
  afterAll(async () => {
    await database.close();
    await storage.remove();
  });

  /** Checks every commit's entries against a read of the log over the commit's ids. */
  async function expectAsRead(commits: readonly (readonly WrittenRequest[])[]): Promise<void> {
    for (const written of commits) {
      const built = committedEntries(written);
      const ids = written.flatMap((w) => w.logIds);
      // One commit's ids follow each other (its statement drew them under the log's lock): the range is its own.
      const read = await readLogRange(database, firstLogId(written)!, built.at(-1)!.id, {}, ids.length + 1);
      expect(built).toStrictEqual(read);
      expect(built.map((e) => e.id)).toEqual([...ids].sort((a, b) => (a < b ? -1 : 1)));
      built.forEach((entry: LogEntry, i) => {
        const stored = read[i]!.event;
        expect(Object.keys(entry.event.metadata)).toEqual(Object.keys(stored.metadata));
        // An event without metadata shares the read's one frozen empty map.
        if (Object.keys(stored.metadata).length === 0) expect(entry.event.metadata).toBe(noMetadata);
      });
    }
  }

  it("builds exactly the entries a read of the log returns, for any batches of appended requests", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(request, { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 8 }),
        fc.boolean(),
        async (requests, maxBatchEvents, drizzleTransaction) => {
          const commits: WrittenRequest[][] = [];
          const acknowledged = new Set<bigint>();
          const batcher = new AppendBatcher(database, {
            parallelism: database.parallelism,
            maxBatchEvents,
            // The Drizzle transaction (ESKIT_APPEND_PATH=drizzle-transaction) writes the same rows another way.
            ...(drizzleTransaction ? { write: appendBatchInTransaction } : {}),
            onCommit: (written) => {
              commits.push([...written]);
              for (const w of written) for (const id of w.logIds) acknowledged.add(id);
            },
          });
          // Appended at once: the first request runs alone, the others queue and share the next commits.
          const answers = await Promise.all(
            requests.map((r) =>
              batcher.append(validateAppend(newEvents(r), limits)).then((ids) => {
                // The tail is told of a commit by the time its callers hear of it.
                for (const id of ids) expect(acknowledged.has(id)).toBe(true);
                return ids;
              }),
            ),
          );
          expect(answers.flat().sort((a, b) => (a < b ? -1 : 1))).toEqual(
            [...acknowledged].sort((a, b) => (a < b ? -1 : 1)),
          );
          await expectAsRead(commits);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("builds them as read for a batch written with COPY too (PostgreSQL, 500 events and more)", async () => {
    const originatorId = randomUUID();
    const commits: WrittenRequest[][] = [];
    const batcher = new AppendBatcher(database, {
      parallelism: 1,
      maxBatchEvents: 1000,
      onCommit: (written) => commits.push([...written]),
    });
    // COPY's text format escapes backslashes, tabs and line breaks: the payloads and metadata hold all of them.
    const events = validateAppend(
      Array.from({ length: 600 }, (_, i): NewEvent => ({
        originatorId,
        version: BigInt(i + 1),
        eventType: i % 2 === 0 ? "com.acme.Copy.Tested" : "日本.書いた",
        payload: i % 3 === 0 ? "" : JSON.stringify({ i, s: "tab\there\\back\r\nslash é 😀" }),
        metadata: i % 4 === 0 ? {} : { z: "1", "10": "\t\\", é: "\n", ab: `${i}`, "2": "日本" },
        ...(i % 5 === 0 ? { eventId: randomUUID().toUpperCase() } : {}),
      })),
      limits,
    );
    await batcher.append(events);
    expect(commits).toHaveLength(1);
    await expectAsRead(commits);
  });

  it("names the lowest log id of a batch as its first, and none for a batch that wrote nothing", () => {
    const none: WrittenRequest["events"] = [];
    expect(firstLogId([])).toBeUndefined();
    expect(firstLogId([{ events: none, logIds: [] }])).toBeUndefined();
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.bigInt({ min: 1n, max: 2n ** 63n - 1n }), { maxLength: 4 }), { maxLength: 4 }),
        (lists) => {
          const all = lists.flat();
          const first = firstLogId(lists.map((logIds) => ({ events: none, logIds })));
          expect(first).toBe(all.length === 0 ? undefined : all.reduce((a, b) => (b < a ? b : a)));
        },
      ),
    );
  });
});
