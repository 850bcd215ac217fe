import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testSize } from "@eskit/test-kit/test-sizes.js";
import { Code, ConnectError, type NewEvent } from "@eskit/client";
import { clientsFor, startTestEventStore, type Clients, type TestEventStore } from "./harness.js";
import { bigintJson, runAppendWorkload, type AckedEvent } from "@eskit/test-kit/append-workload.js";
import { expectHistoriesMatchAcked, expectLogMatchesAcked, orderViolations } from "./support/log-checks.js";
import { startLogReader, type LogReader } from "./support/log-reader.js";
import { findSerialOrder, type SentRequest } from "./support/serial-model.js";

// Runs against PGlite, or against a fresh PostgreSQL database when DATABASE_URL is set (see the harness). One store
// serves both tests (a PGlite start costs seconds); each reads the log from a marker event of its own, so neither sees
// the other's events.

const writerCount = 8;
const eventsPerWriter = 640;

let store: TestEventStore;
const clients: Clients[] = [];
const connect = (): Clients => {
  const c = clientsFor(store.url, "grpc");
  clients.push(c);
  return c;
};

beforeAll(async () => {
  store = await startTestEventStore();
});
afterAll(async () => {
  for (const c of clients) c.close();
  await store?.stop();
});

/** Appends a marker event and opens a LogsPoll reader at it; resolves once the stream delivered the marker. */
async function readerFromMarker(originatorId: string): Promise<{ reader: LogReader; marker: AckedEvent }> {
  const eventId = randomUUID();
  const event = { originatorId, version: 1n, eventType: "Marker.Placed", payload: "{}", eventId };
  const [logId] = await connect().eventStore.appendEvents([event]);
  const reader = startLogReader(connect().eventStore, { fromId: logId! });
  await reader.waitForId(logId!, 10_000);
  return { reader, marker: { ...event, logId: logId! } };
}

describe("concurrent writers on separate connections", () => {
  it("a LogsPoll reader receives every acknowledged event exactly once, in id order, and nothing refused", async () => {
    const seed = Number(process.env["ESKIT_TEST_SEED"] ?? Date.now() % 100_000);
    const checker = connect().eventStore;
    // The marker the reader must see first proves the stream is open before the writers start.
    const { reader, marker } = await readerFromMarker("load-marker");
    try {
      const writers = Array.from({ length: writerCount }, () => connect().eventStore);
      const result = await runAppendWorkload({ clients: writers, eventsPerWriter, prefix: "load", seed });
      const deliveredDuringWrites = reader.entries.length;

      result.acked.set(marker.eventId, marker);
      const context = `seed ${seed} (set ESKIT_TEST_SEED to repeat)`;
      expect(result.acked.size, context).toBeGreaterThanOrEqual(writerCount * eventsPerWriter + 1);
      expect(result.conflicts, `conflicts on the hot originators, ${context}`).toBeGreaterThan(0);
      expect(result.spuriousConflicts, `aborted although nobody wrote first, ${context}`).toBe(0);
      expect(result.gapsRefused, context).toBeGreaterThan(0);
      expect(result.rejectedEventIds.size, context).toBeGreaterThan(result.conflicts);
      // The reader was live while the writers ran, not merely catching up at the end.
      expect(deliveredDuringWrites, context).toBeGreaterThan(1);

      const lastAcked = [...result.acked.values()].reduce((a, b) => (b.logId > a ? b.logId : a), 0n);
      await reader.waitForId(lastAcked, 20_000);
      // Anything unacknowledged would show up after the last acknowledged id: give it a moment to.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(reader.failure).toBeUndefined();
      expectLogMatchesAcked(reader.entries, result.acked, result.rejectedEventIds);
      await expectHistoriesMatchAcked(checker, result.acked);
    } finally {
      await reader.stop();
    }
  }, 90_000);
});

const writersPerRun = 3;
const originatorsPerRun = 3;

const payloadArb = fc
  .tuple(
    fc.jsonValue({ maxDepth: 2, stringUnit: "grapheme" }),
    fc.constantFrom<number | string | undefined>(undefined, 1, "\t"),
    fc.constantFrom("", " ", "\n "),
  )
  .map(([value, indent, pad]) => `${pad}${JSON.stringify(value, null, indent)}${pad}`);

const commandArb = fc.record({
  writer: fc.nat(writersPerRun - 1),
  parts: fc.uniqueArray(
    fc.record({ originator: fc.nat(originatorsPerRun - 1), count: fc.integer({ min: 1, max: 3 }) }),
    { minLength: 1, maxLength: 2, selector: (p) => p.originator },
  ),
  // view: the writer's (possibly stale) idea of the version + 1; refresh: read it first; stale: reuse a taken
  // version; gap: skip one.
  mode: fc.constantFrom("view", "view", "refresh", "stale", "gap"),
  eventType: fc.constantFrom("Item.Added", "Item.Renamed", "Order.Line.Added"),
  payloads: fc.array(payloadArb, { minLength: 6, maxLength: 6 }),
  metadata: fc.dictionary(
    fc.stringMatching(/^[a-z]{1,6}$/),
    fc.string({ maxLength: 8, unit: "grapheme" }).filter((s) => !s.includes("\u0000")),
    { maxKeys: 2, noNullPrototype: true },
  ),
});
type Command = typeof commandArb extends fc.Arbitrary<infer T> ? T : never;

/** Rounds of commands; the commands of one round run at the same time, rounds one after the other. */
const scenarioArb = fc.array(fc.array(commandArb, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 6 });

interface ModelEvent {
  eventId: string;
  logId: bigint;
  version: bigint;
  eventType: string;
  payload: string;
  metadata: Record<string, string>;
}

describe("random interleavings of appends (property)", () => {
  it("outcomes follow the version rule in some serial order; GetEvents and LogsPoll return exactly what was acknowledged", async () => {
    const writers = Array.from({ length: writersPerRun }, () => connect().eventStore);
    const checker = connect().eventStore;
    const { reader } = await readerFromMarker("pbt-marker");
    const rejected = new Set<string>();
    let ackedTotal = 0;
    let lastLogId = 0n;
    let run = 0;
    const codes = new Map<Code, number>();

    try {
      await fc.assert(
        fc.asyncProperty(scenarioArb, async (rounds) => {
          const prefix = `pbt${run++}`;
          const originatorIds = Array.from({ length: originatorsPerRun }, (_, k) => `${prefix}-o${k}`);
          const views = writers.map(() => new Map<string, bigint>());
          const versions = new Map<string, bigint>();
          const model = new Map<string, ModelEvent[]>(originatorIds.map((id) => [id, []]));

          const send = async (command: Command): Promise<{ request: SentRequest; events: NewEvent[] }> => {
            const client = writers[command.writer]!;
            const view = views[command.writer]!;
            if (command.mode === "refresh") {
              for (const part of command.parts) {
                const id = originatorIds[part.originator]!;
                const stored = await client.readEvents(id);
                view.set(id, stored.at(-1)?.originator?.version ?? 0n);
              }
            }
            const events: NewEvent[] = [];
            const parts = command.parts.map((part) => {
              const originatorId = originatorIds[part.originator]!;
              const at = view.get(originatorId) ?? 0n;
              const firstVersion =
                command.mode === "gap" ? at + 2n : command.mode === "stale" && at > 0n ? at : at + 1n;
              for (let i = 0; i < part.count; i++) {
                events.push({
                  originatorId,
                  version: firstVersion + BigInt(i),
                  eventType: command.eventType,
                  payload: command.payloads[events.length]!,
                  metadata: { ...command.metadata },
                  eventId: randomUUID(),
                });
              }
              return { originatorId, firstVersion, count: part.count };
            });
            try {
              const logIds = await client.appendEvents(events);
              for (const event of events) view.set(event.originatorId, event.version);
              return { request: { parts, outcome: { ok: true, logIds } }, events };
            } catch (error) {
              const code = ConnectError.from(error).code;
              codes.set(code, (codes.get(code) ?? 0) + 1);
              for (const event of events) rejected.add(event.eventId!);
              return { request: { parts, outcome: { ok: false, code } }, events };
            }
          };

          for (const round of rounds) {
            const sent = await Promise.all(round.map(send));
            const order = findSerialOrder(
              sent.map((s) => s.request),
              versions,
              lastLogId,
            );
            expect(
              order,
              `no serial order explains this round, from versions ${JSON.stringify([...versions], bigintJson)} ` +
                `after log id ${lastLogId}: ${JSON.stringify(
                  sent.map((s) => s.request),
                  bigintJson,
                )}`,
            ).toBeDefined();
            for (const index of order!) {
              const { request, events } = sent[index]!;
              if (!request.outcome.ok) continue;
              const logIds = request.outcome.logIds;
              events.forEach((event, i) => {
                model.get(event.originatorId)!.push({
                  eventId: event.eventId!,
                  logId: logIds[i]!,
                  version: event.version,
                  eventType: event.eventType,
                  payload: event.payload as string,
                  metadata: event.metadata ?? {},
                });
                versions.set(event.originatorId, event.version);
                if (logIds[i]! > lastLogId) lastLogId = logIds[i]!;
              });
            }
          }

          for (const id of originatorIds) {
            const stored = await checker.readEvents(id);
            expect(
              stored.map((e) => ({
                eventId: e.eventId,
                version: e.originator?.version,
                eventType: e.eventType,
                payload: e.payload,
                metadata: { ...e.metadata },
              })),
              `GetEvents(${id})`,
            ).toEqual(
              model.get(id)!.map((e) => ({
                eventId: e.eventId,
                version: e.version,
                eventType: e.eventType,
                payload: e.payload,
                metadata: e.metadata,
              })),
            );
          }

          const acked = [...model.values()].flat().sort((a, b) => (a.logId < b.logId ? -1 : 1));
          ackedTotal += acked.length;
          if (acked.length > 0) await reader.waitForId(acked.at(-1)!.logId, 10_000);
          const delivered = reader.entries.filter((e) => e.event?.originator?.id.startsWith(`${prefix}-`));
          expect(delivered.map((e) => ({ id: e.id, eventId: e.event?.eventId, payload: e.event?.payload }))).toEqual(
            acked.map((e) => ({ id: e.logId, eventId: e.eventId, payload: e.payload })),
          );
        }),
        { numRuns: testSize(30, 5) },
      );

      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(reader.failure).toBeUndefined();
      expect(orderViolations(reader.entries)).toEqual([]);
      expect(reader.entries.filter((e) => rejected.has(e.event?.eventId ?? ""))).toEqual([]);
      expect(reader.entries.length).toBe(ackedTotal + 1);
      // The scenarios did exercise both refusals, and nothing else went wrong.
      expect([...codes.keys()].sort()).toEqual([Code.Aborted, Code.FailedPrecondition].sort());
    } finally {
      await reader.stop();
    }
  }, 90_000);
});
