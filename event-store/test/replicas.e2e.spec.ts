import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError, createLogConsumer, documentConflictOf, type AppLogEntry } from "@eskit/client";
import { runAppendWorkload } from "@eskit/test-kit/append-workload.js";
import { scrape } from "@eskit/test-kit/metrics.js";
import { testSize } from "@eskit/test-kit/test-sizes.js";
import { dropDatabase, freshDatabaseUrl, protocols, type Protocol } from "./harness.js";
import { startDocumentWriters } from "./support/document-writers.js";
import { expectHistoriesMatchAcked, expectLogMatchesAcked, orderViolations } from "./support/log-checks.js";
import { startLogReader } from "./support/log-reader.js";
import { startReplicaSet, type CrudService, type ReplicaSet } from "./support/replica-set.js";

// Replicas as the README's "Running replicas" section describes them: three Event Store processes on one PostgreSQL
// database, two Crud Store processes (A on Event Store 0, B on Event Store 1), and on each Event Store, from before
// the first write, a LogsPoll reader and a consumer of the client's helper (createLogConsumer). Processes can share
// only a PostgreSQL database: PGlite is embedded in one process.
const postgresUrl = process.env["DATABASE_URL"];
const skipReason = postgresUrl ? "" : " (skipped: needs PostgreSQL, set DATABASE_URL)";

/** Crud Store A keeps a type as deployed by default (ESKIT_TYPE_CACHE_MAX_AGE_MS, 1 s): the bound at worst. */
const typeCacheMaxAgeA = 1000;
/**
 * Crud Store B keeps a type for a minute, so that only the log can tell it of a change made through A. Through the
 * log it takes milliseconds (docs/guarantees.md); this bound leaves room for a machine loaded by the whole suite.
 */
const typeCacheMaxAgeB = 60_000;
// A quarter of B's cache age: a change seen within it came through the log, not through an expired entry.
const propagationMs = 15_000;

const appendWriters = 6;
const eventsPerWriter = testSize(400, 100);
const documentWrites = testSize(600, 150);
const raceRounds = 12;

/** A consumer of one Event Store's log, and everything it received. */
interface LogFollower {
  readonly name: string;
  readonly entries: readonly AppLogEntry[];
  failure(): unknown;
  stop(): Promise<void>;
}

let databaseUrl: string | undefined;
let set: ReplicaSet;
const followers: LogFollower[] = [];

describe.skipIf(!postgresUrl)(`three Event Stores and two Crud Stores on one PostgreSQL database${skipReason}`, () => {
  // Five processes start, on two cores that other test files share: more than the default minute may pass.
  beforeAll(async () => {
    databaseUrl = await freshDatabaseUrl(postgresUrl);
    set = await startReplicaSet({
      databaseUrl,
      eventStores: 3,
      crudStores: [
        { eventStore: 0, env: { ESKIT_TYPE_CACHE_MAX_AGE_MS: String(typeCacheMaxAgeA) } },
        { eventStore: 1, env: { ESKIT_TYPE_CACHE_MAX_AGE_MS: String(typeCacheMaxAgeB) } },
      ],
    });
    for (const [i, store] of set.eventStores.entries()) {
      // Each over another protocol: the Connect, gRPC and gRPC-Web paths of LogsPoll each serve a whole log.
      const readerProtocol = protocols[i % protocols.length]!;
      const consumerProtocol = protocols[(i + 1) % protocols.length]!;
      const reader = startLogReader(set.eventStore(i, readerProtocol).eventStore);
      followers.push({
        name: `LogsPoll reader on Event Store ${i} (${readerProtocol})`,
        entries: reader.entries,
        failure: () => reader.failure,
        stop: () => reader.stop(),
      });
      followers.push(startConsumer(`consumer on Event Store ${i} (${consumerProtocol})`, store.url, consumerProtocol));
    }
  }, 120_000);
  afterAll(async () => {
    try {
      await Promise.all(followers.map((f) => f.stop()));
      await set?.stop();
    } finally {
      if (databaseUrl !== undefined) await dropDatabase(databaseUrl);
    }
  });

  it("of two Updates of one version, one through each Crud Store, exactly one wins and the other is aborted", async () => {
    const entityType = freshType("race");
    const id = `race-${randomBytes(6).toString("hex")}`;
    const a = protocols.map((p) => set.crudStore(0, p));
    const b = protocols.map((p) => set.crudStore(1, p));
    await a[0]!.create({ entityType, originator: { id }, payload: JSON.stringify({ round: 0 }) });
    const wins = [0, 0];
    for (let round = 1; round <= raceRounds; round++) {
      const version = BigInt(round);
      const through = [a[round % a.length]!, b[(round + 1) % b.length]!];
      const results = await Promise.all(
        through.map((crud, replica) =>
          settle(crud.update({ entityType, originator: { id, version }, payload: JSON.stringify({ round, replica }) })),
        ),
      );
      const winners = results.flatMap((r, replica) => (r.ok ? [replica] : []));
      expect(winners, `round ${round}: ${results.map((r) => (r.ok ? "ok" : Code[r.code])).join(", ")}`).toHaveLength(1);
      const winner = winners[0]!;
      wins[winner] = (wins[winner] ?? 0) + 1;
      const lost = results[1 - winner]!;
      expect(lost.ok ? "ok" : Code[lost.code], `round ${round}`).toBe(Code[Code.Aborted]);
      const conflict = documentConflictOf(lost.ok ? undefined : lost.error);
      expect({ id: conflict?.id, basedOnVersion: conflict?.basedOnVersion }).toEqual({ id, basedOnVersion: version });
      // 0: the winner committed while the loser was being written, so the loser's replica had not read it yet.
      expect([0n, version + 1n]).toContain(conflict?.currentVersion);
      for (const crud of [a[0]!, b[0]!]) {
        const read = await crud.get({ entityType, originator: { id } });
        expect(read.originator?.version).toBe(version + 1n);
        expect(JSON.parse(read.payload)).toEqual({ round, replica: winner });
      }
    }
    // Through the third Event Store: the creation, then exactly one Updated per round; the losers left nothing.
    const events = await set.eventStore(2).eventStore.readEvents(id);
    expect(events.map((e) => `${e.originator?.version} ${e.eventType}`)).toEqual([
      `1 ${entityType}.Created`,
      ...Array.from({ length: raceRounds }, (_, r) => `${r + 2} ${entityType}.Updated`),
    ]);
    console.info(`replicas: ${raceRounds} races of one Update per Crud Store, won by A ${wins[0]}, by B ${wins[1]}`);
  });

  it("a type changed through one Crud Store is enforced by the other, on another Event Store, within the cache's bound", async () => {
    const schema = JSON.stringify({ type: "object", required: ["name"] });
    const [a, b] = [set.crudStore(0), set.crudStore(1)];

    // B holds the type (not registered: anything goes), serving it from memory: no read of the registry.
    const viaLog = freshType("viaLog");
    await expectServedFromCache(1, typeCacheMaxAgeB, async () => expect(await create(b, viaLog, {})).toBe("ok"));
    await a.registerType({ spec: { entityType: viaLog, schemaSpec: { schemaVersion: 1n, jsonSchema: schema } } });
    expect(await create(a, viaLog, {}), "the replica that changed it, at once").toBe(Code.InvalidArgument);
    const registeredMs = await untilAnswered(b, viaLog, "ok", Code.InvalidArgument);
    expect(await create(b, viaLog, { name: "Ada" })).toBe("ok");
    await a.updateType({ spec: { entityType: viaLog, schemaSpec: { schemaVersion: 2n, jsonSchema: "" } } });
    const droppedMs = await untilAnswered(b, viaLog, Code.InvalidArgument, "ok");

    // A keeps types 1 s: every Create sent to it from 1 s after the change was acknowledged must see the change.
    const bounded = freshType("bounded");
    await expectServedFromCache(0, typeCacheMaxAgeA, async () => expect(await create(a, bounded, {})).toBe("ok"));
    await b.registerType({ spec: { entityType: bounded, schemaSpec: { schemaVersion: 1n, jsonSchema: schema } } });
    const acknowledged = performance.now();
    // Creates one after the other, until one sent after the bound has answered.
    const answers: Array<{ sentMs: number; got: Code | "ok" }> = [];
    do {
      const sentMs = performance.now() - acknowledged;
      answers.push({ sentMs, got: await create(a, bounded, {}) });
      await sleep(10);
    } while (answers.at(-1)!.sentMs < typeCacheMaxAgeA);
    const firstRefusal = answers.findIndex((x) => x.got === Code.InvalidArgument);
    expect(firstRefusal, JSON.stringify(answers)).toBeGreaterThanOrEqual(0);
    expect(answers.slice(0, firstRefusal).filter((x) => x.got !== "ok")).toEqual([]);
    // Once enforced it stays enforced: no Create accepted after a refusal, none accepted after the bound.
    expect(answers.slice(firstRefusal).filter((x) => x.got !== Code.InvalidArgument)).toEqual([]);
    expect(answers.filter((x) => x.sentMs >= typeCacheMaxAgeA && x.got !== Code.InvalidArgument)).toEqual([]);
    const enforcedMs = answers[firstRefusal]!.sentMs;

    console.info(
      `replicas: a schema registered through A was enforced by B (caching a minute) after ${registeredMs.toFixed(0)} ms, ` +
        `its removal after ${droppedMs.toFixed(0)} ms; a schema registered through B was enforced by A (caching 1 s) ` +
        `after ${enforcedMs.toFixed(0)} ms`,
    );
    // Each cache check may retry for up to 30 s on a loaded machine.
  }, 120_000);

  it("writes through every replica reach every Event Store's log once each, in one order, and every replica reads them back", async () => {
    const seed = Number(process.env["ESKIT_TEST_SEED"] ?? Date.now() % 100_000);
    const context = `seed ${seed} (set ESKIT_TEST_SEED to repeat)`;
    const prefix = `rep${seed}`;
    const entityType = freshType("load");
    const [a, b] = [0, 1].map((replica) => protocols.map((p) => set.crudStore(replica, p))) as [
      CrudService[],
      CrudService[],
    ];
    const writeStart = performance.now();
    const documents = await startDocumentWriters({
      clients: [
        { replica: "A", crud: a[0]! },
        { replica: "A", crud: a[1]! },
        { replica: "B", crud: b[1]! },
        { replica: "B", crud: b[2]! },
      ],
      entityType,
      prefix: `doc${seed}`,
      seed,
    });
    let appends: Awaited<ReturnType<typeof runAppendWorkload>>;
    try {
      // Writer w appends through Event Store w % 3, over each protocol in turn.
      const clients = Array.from(
        { length: appendWriters },
        (_, w) => set.eventStore(w % 3, protocols[(w + Math.floor(w / 3)) % protocols.length]!).eventStore,
      );
      appends = await runAppendWorkload({ clients, eventsPerWriter, prefix, seed });
      await waitUntil(() => documents.count().acked >= documentWrites, 60_000, `${documentWrites} document writes`);
    } finally {
      await documents.stop();
    }
    const writeMs = performance.now() - writeStart;

    // Every Event Store has the same head, and every follower reaches it.
    const heads = await Promise.all(
      [0, 1, 2].map(async (i) => (await set.eventStore(i).eventStore.getHead({})).headId),
    );
    expect(new Set(heads).size, `heads ${heads.join(", ")}`).toBe(1);
    const head = heads[0]!;
    const catchUpStart = performance.now();
    await waitUntil(
      () => followers.every((f) => f.failure() !== undefined || (f.entries.at(-1)?.id ?? 0n) >= head),
      30_000,
      `every follower at head ${head}`,
    );
    const catchUpMs = performance.now() - catchUpStart;
    // Time for a duplicate or a stray entry to arrive, if any would.
    await sleep(300);

    const log: AppLogEntry[] = [];
    for await (const page of set.eventStore(2).eventStore.pageLogs({ size: 1000 })) log.push(...page.entries);
    const sequence = (entries: readonly AppLogEntry[]) => entries.map((e) => `${e.id} ${e.event?.eventId}`);
    expect(log.at(-1)?.id).toBe(head);
    for (const follower of followers) {
      expect(follower.failure(), follower.name).toBeUndefined();
      expect(orderViolations(follower.entries).slice(0, 10), follower.name).toEqual([]);
      expect(firstDifference(sequence(follower.entries), sequence(log)), follower.name).toBeUndefined();
    }

    // The Event Store appends: every acknowledged event once, under its log id, nothing refused.
    expect(appends.conflicts, `conflicts across the processes, ${context}`).toBeGreaterThan(0);
    expect(appends.spuriousConflicts, context).toBe(0);
    const appended = log.filter((e) => e.event?.originator?.id.startsWith(`${prefix}-`));
    expectLogMatchesAcked(appended, appends.acked, appends.rejectedEventIds);
    await expectHistoriesMatchAcked(set.eventStore(2).eventStore, appends.acked);

    // The documents: each acknowledged version once on the log, nothing of a refused Update, the same reads everywhere.
    expect(documents.anomalies.slice(0, 10), context).toEqual([]);
    expect(documents.count().conflicts, `conflicts on the shared documents, ${context}`).toBeGreaterThan(0);
    const onLog = new Map<string, string[]>();
    for (const entry of log.filter((e) => e.event?.eventType.startsWith(`${entityType}.`))) {
      const id = entry.event!.originator!.id;
      onLog.set(id, [...(onLog.get(id) ?? []), `${entry.event!.originator!.version} ${entry.event!.eventType}`]);
    }
    expect([...onLog.keys()].sort()).toEqual([...documents.documents.keys()].sort());
    let versionsRead = 0;
    for (const [id, versions] of documents.documents) {
      const latest = BigInt(versions.size);
      const expected = Array.from({ length: versions.size }, (_, v) =>
        v === 0 ? `1 ${entityType}.Created` : `${v + 1} ${entityType}.Updated`,
      );
      expect(onLog.get(id), `${id} on the log`).toEqual(expected);
      expect(versions.get(latest), `${id}: versions 1 to ${latest} acknowledged`).toBeDefined();
      for (const crud of [a[0]!, b[0]!]) {
        const read = await crud.get({ entityType, originator: { id } });
        expect(read.originator?.version).toBe(latest);
        expect(JSON.parse(read.payload), id).toEqual(JSON.parse(versions.get(latest)!));
      }
      // Every version of a shared document, written through both replicas, read back through B.
      if (id.includes("-shared-")) {
        for (const [version, payload] of versions) {
          const read = await b[0]!.get({ entityType, originator: { id, version } });
          expect(JSON.parse(read.payload), `${id}@${version}`).toEqual(JSON.parse(payload));
          versionsRead++;
        }
      }
    }

    const holes = Number(head) - log.length;
    console.info(
      `replicas, ${context}: ${appends.acked.size} events appended (${appends.conflicts} conflicts) and ` +
        `${documents.count().acked} document writes (${documents.count().conflicts} conflicts) in ` +
        `${writeMs.toFixed(0)} ms; log of ${log.length} entries up to id ${head} (${holes} ids unused); ` +
        `${followers.length} followers at the head ${catchUpMs.toFixed(0)} ms after the last write; ` +
        `${versionsRead} shared versions read back`,
    );
  }, 180_000);
});

/** A createLogConsumer consumer of the whole log from its beginning, keeping every entry handed to it. */
function startConsumer(name: string, url: string, protocol: Protocol): LogFollower {
  const entries: AppLogEntry[] = [];
  const abort = new AbortController();
  let failure: unknown;
  const done = createLogConsumer(set.transport(url, protocol))
    .consume(
      { consumerId: `replicas-${randomBytes(4).toString("hex")}`, start: "beginning" },
      (entry) => void entries.push(entry),
      { signal: abort.signal },
    )
    .then(
      () => undefined,
      (error: unknown) => void (failure = error),
    );
  return {
    name,
    entries,
    failure: () => failure,
    async stop() {
      abort.abort();
      await done;
    },
  };
}

/**
 * Runs `write` twice and checks that the Event Store replica `i` served no GetEvents for the second: the Crud Store on
 * it filled its cache of the type with the first and took the type from there, not from the registry.
 *
 * The second write must start within `maxAgeMs` of the first, or the entry has expired and a read is right. Under a
 * loaded machine (the whole suite at once) two writes can take longer than a 1 s bound, so a pair that did is not
 * counted and the pair is tried again, for up to 30 s. The first pair that stayed within half the bound must be
 * served from cache.
 */
async function expectServedFromCache(i: number, maxAgeMs: number, write: () => Promise<void>): Promise<void> {
  const getEvents = async () =>
    (await scrape(set.eventStores[i]!.url)).samples
      .filter((s) => s.name === "eskit_rpc_requests_total" && s.labels["method"] === "GetEvents")
      .reduce((sum, s) => sum + s.value, 0);
  const slowPairs: number[] = [];
  const giveUpAt = performance.now() + 30_000;
  while (performance.now() < giveUpAt) {
    const filled = performance.now();
    await write();
    const before = await getEvents();
    const elapsed = performance.now() - filled;
    await write();
    const after = await getEvents();
    // The second write was sent `elapsed` ms after the read that filled the entry began (at the latest).
    if (elapsed < maxAgeMs / 2) {
      expect(after, "GetEvents served while the type was cached").toBe(before);
      return;
    }
    slowPairs.push(Math.round(elapsed));
  }
  expect.fail(`every pair of writes took longer than ${maxAgeMs / 2} ms apart: ${slowPairs.join(", ")} ms`);
}

let typeCounter = 0;

/** An entity type no other test uses. */
function freshType(label: string): string {
  return `test.${label}${++typeCounter}x${randomBytes(4).toString("hex")}.Doc`;
}

/** Creates a document of `entityType`: "ok", or the code of the refusal. */
async function create(crud: CrudService, entityType: string, payload: object): Promise<Code | "ok"> {
  const result = await settle(crud.create({ entityType, payload: JSON.stringify(payload) }));
  return result.ok ? "ok" : result.code;
}

/** Creates until the answer is `want`, failing on anything but `from` or after {@link propagationMs}; the time taken. */
async function untilAnswered(crud: CrudService, entityType: string, from: Code | "ok", want: Code | "ok") {
  const start = performance.now();
  for (;;) {
    const got = await create(crud, entityType, {});
    const ms = performance.now() - start;
    if (got === want) return ms;
    expect(got).toBe(from);
    expect(ms, `still ${String(from)} after ${ms.toFixed(0)} ms`).toBeLessThan(propagationMs);
    await sleep(2);
  }
}

type Settled = { ok: true } | { ok: false; code: Code; error: unknown };

async function settle(call: Promise<unknown>): Promise<Settled> {
  try {
    await call;
    return { ok: true };
  } catch (error) {
    return { ok: false, code: ConnectError.from(error).code, error };
  }
}

/** Where two sequences first differ, described; undefined when they are equal. */
function firstDifference(got: readonly string[], want: readonly string[]): string | undefined {
  const length = Math.max(got.length, want.length);
  for (let i = 0; i < length; i++) {
    if (got[i] !== want[i]) {
      return `#${i} of ${got.length} (the log has ${want.length}): ${got[i] ?? "nothing"} where the log has ${want[i] ?? "nothing"}`;
    }
  }
  return undefined;
}

async function waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
