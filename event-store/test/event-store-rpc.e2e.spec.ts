import { randomUUID } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import type { AppLogEntry } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Clients, type TestEventStore, clientsFor, protocols, startTestEventStore } from "./harness.js";
import { eventIdTakenOf, versionConflictOf, versionGapOf } from "@eskit/client";
import { rejection, rejectionError } from "@eskit/test-kit/rejection.js";

// Every RPC of EventStoreService and every error case, through a real server on a real port, once per protocol.
// Tests share one store, so each uses its own originators and entity types.

let store: TestEventStore;
beforeAll(async () => {
  store = await startTestEventStore({ maxEventBytes: 2048, maxRequestBytes: 4096, maxEventsPerRequest: 50 });
});
afterAll(async () => {
  await store.stop();
});

const unique = (prefix: string) => `${prefix}${randomUUID().replaceAll("-", "").slice(0, 12)}`;

describe.each(protocols)("EventStoreService over %s", (protocol) => {
  let c: Clients;
  beforeAll(() => {
    c = clientsFor(store.url, protocol);
  });
  afterAll(() => c.close());

  const event = (
    id: string,
    version: number,
    eventType: string,
    payload = "{}",
    extra: Record<string, unknown> = {},
  ) => ({
    originator: { id, version: BigInt(version) },
    eventType,
    payload,
    ...extra,
  });

  describe("Append", () => {
    it("stores a request's events and returns increasing log ids in request order", async () => {
      const id = unique("u");
      const { logIds } = await c.eventStore.append({
        events: [event(id, 1, "User.Created"), event(id, 2, "User.Renamed"), event(id, 3, "User.Renamed")],
      });
      expect(logIds).toHaveLength(3);
      expect(logIds[1]! > logIds[0]! && logIds[2]! > logIds[1]!).toBe(true);
      const { events } = await c.eventStore.getEvents({ originatorId: id });
      expect(events.map((e) => [e.originator?.version, e.eventType])).toEqual([
        [1n, "User.Created"],
        [2n, "User.Renamed"],
        [3n, "User.Renamed"],
      ]);
    });

    it("returns events exactly as appended: payload byte for byte, metadata, event_id, occurred_on", async () => {
      const id = unique("u");
      const payload = '{ "b" : 1,\n  "a": 1.0e+2, "big": 12345678901234567890, "s": "é\\u00e9 ☃ \\ud83d\\ude00" }';
      const eventId = randomUUID();
      const occurredOn = { seconds: 1_700_000_000n, nanos: 123_456_789 };
      await c.eventStore.append({
        events: [
          event(id, 1, "User.Created", payload, {
            eventId,
            occurredOn,
            metadata: { source: "test", "trace-id": "t1" },
          }),
        ],
      });
      const [stored] = (await c.eventStore.getEvents({ originatorId: id })).events;
      expect(stored!.payload).toBe(payload);
      expect(stored!.eventId).toBe(eventId);
      expect(stored!.metadata).toEqual({ source: "test", "trace-id": "t1" });
      expect(stored!.occurredOn?.seconds).toBe(occurredOn.seconds);
      expect(stored!.occurredOn?.nanos).toBe(occurredOn.nanos);
    });

    it("stores an empty payload as {} and stamps occurred_on and event_id when absent", async () => {
      const id = unique("u");
      const before = BigInt(Math.floor(Date.now() / 1000));
      await c.eventStore.append({ events: [event(id, 1, "User.Created", "")] });
      const [stored] = (await c.eventStore.getEvents({ originatorId: id })).events;
      expect(stored!.payload).toBe("{}");
      expect(stored!.eventId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/u);
      expect(stored!.occurredOn!.seconds >= before && stored!.occurredOn!.seconds <= before + 5n).toBe(true);
    });

    it("rejects a stale version with aborted, naming the current version, and stores nothing", async () => {
      const id = unique("u");
      await c.eventStore.append({ events: [event(id, 1, "User.Created"), event(id, 2, "User.Renamed")] });
      const error = await rejectionError(
        c.eventStore.append({ events: [event(id, 2, "User.Renamed", '{"late":true}')] }),
      );
      const { code, rawMessage: message } = error;
      expect(code).toBe(Code.Aborted);
      expect(message).toContain("is at version 2");
      // What a client acts on travels as a typed detail, not only in the text.
      expect(versionConflictOf(error)).toMatchObject({ originatorId: id, expectedVersion: 2n, currentVersion: 2n });
      const { events } = await c.eventStore.getEvents({ originatorId: id });
      expect(events.map((e) => e.payload)).toEqual(["{}", "{}"]);
    });

    it("rejects a version beyond current + 1 with failed_precondition", async () => {
      const id = unique("u");
      await c.eventStore.append({ events: [event(id, 1, "User.Created")] });
      const error = await rejectionError(c.eventStore.append({ events: [event(id, 3, "User.Renamed")] }));
      const { code, rawMessage: message } = error;
      expect(code).toBe(Code.FailedPrecondition);
      expect(message).toContain("is at version 1");
      expect(versionGapOf(error)).toMatchObject({ originatorId: id, expectedVersion: 3n, currentVersion: 1n });
      expect(versionConflictOf(error)).toBeUndefined();
      expect((await c.eventStore.getEvents({ originatorId: id })).events).toHaveLength(1);
    });

    it("commits all events of a request or none: a conflict on one originator stores nothing of the others", async () => {
      const taken = unique("u");
      const fresh = unique("u");
      await c.eventStore.append({ events: [event(taken, 1, "User.Created")] });
      const { code } = await rejection(
        c.eventStore.append({ events: [event(fresh, 1, "User.Created"), event(taken, 1, "User.Created")] }),
      );
      expect(code).toBe(Code.Aborted);
      expect((await c.eventStore.getEvents({ originatorId: fresh })).events).toEqual([]);
    });

    it.each<[string, (id: string) => object[], string]>([
      ["no events", () => [], "events is empty"],
      [
        "an empty originator id",
        () => [{ originator: { id: "", version: 1n }, eventType: "User.Created" }],
        "events[0].originator.id is empty",
      ],
      ["a missing originator", () => [{ eventType: "User.Created" }], "events[0].originator.id is empty"],
      [
        "a 256-character originator id",
        () => [{ originator: { id: "x".repeat(256), version: 1n }, eventType: "User.Created" }],
        "at most 255",
      ],
      ["version 0", (id) => [{ originator: { id, version: 0n }, eventType: "User.Created" }], "versions start at 1"],
      [
        "an event type without an action",
        (id) => [{ originator: { id, version: 1n }, eventType: "User" }],
        '"<EntityType>.<Action>"',
      ],
      [
        "an event type with an empty entity",
        (id) => [{ originator: { id, version: 1n }, eventType: ".Created" }],
        "both parts",
      ],
      [
        "a payload that is not JSON",
        (id) => [{ originator: { id, version: 1n }, eventType: "User.Created", payload: "{oops" }],
        "not valid JSON",
      ],
      [
        "an event_id that is not a UUID",
        (id) => [{ originator: { id, version: 1n }, eventType: "User.Created", eventId: "nope" }],
        "is not a UUID",
      ],
      [
        "a valid event followed by an invalid one",
        (id) => [
          { originator: { id, version: 1n }, eventType: "User.Created" },
          { originator: { id, version: 2n }, eventType: "User.Renamed", payload: "[" },
        ],
        "events[1].payload",
      ],
    ])("rejects %s with invalid_argument and stores nothing", async (_name, events, message) => {
      const id = unique("u");
      const result = await rejection(c.eventStore.append({ events: events(id) }));
      expect(result.code).toBe(Code.InvalidArgument);
      expect(result.message).toContain(message);
      expect((await c.eventStore.getEvents({ originatorId: id })).events).toEqual([]);
    });

    it("rejects a payload over the per-event limit with resource_exhausted", async () => {
      const id = unique("u");
      const payload = JSON.stringify("x".repeat(2047));
      const { code, message } = await rejection(
        c.eventStore.append({ events: [event(id, 1, "User.Created", payload)] }),
      );
      expect(code).toBe(Code.ResourceExhausted);
      expect(message).toContain("2049 bytes: at most 2048");
      expect((await c.eventStore.getEvents({ originatorId: id })).events).toEqual([]);
    });

    it("rejects a request over the per-request limit with resource_exhausted", async () => {
      const id = unique("u");
      const payload = JSON.stringify("x".repeat(1500));
      const events = [1, 2, 3].map((v) => event(id, v, "User.Renamed", payload));
      const { code } = await rejection(c.eventStore.append({ events }));
      expect(code).toBe(Code.ResourceExhausted);
      expect((await c.eventStore.getEvents({ originatorId: id })).events).toEqual([]);
    });

    it("rejects a request with more events than the limit with resource_exhausted", async () => {
      const id = unique("u");
      const events = Array.from({ length: 51 }, (_, i) => event(id, i + 1, "User.Renamed"));
      const { code, message } = await rejection(c.eventStore.append({ events }));
      expect(code).toBe(Code.ResourceExhausted);
      expect(message).toContain("51 events: at most 50");
      expect((await c.eventStore.getEvents({ originatorId: id })).events).toEqual([]);
      expect((await c.eventStore.append({ events: events.slice(0, 50) })).logIds).toHaveLength(50);
    });

    it("answers a retried request with the original log ids and stores nothing twice", async () => {
      const id = unique("u");
      const request = {
        events: [
          event(id, 1, "User.Created", '{"n":1}', { eventId: randomUUID() }),
          event(id, 2, "User.Renamed", '{"n":2}', { eventId: randomUUID() }),
        ],
      };
      const first = await c.eventStore.append(request);
      const retry = await c.eventStore.append(request);
      expect(retry.logIds).toEqual(first.logIds);
      expect((await c.eventStore.getEvents({ originatorId: id })).events).toHaveLength(2);
    });

    it("rejects an event_id reused with other content with already_exists", async () => {
      const id = unique("u");
      const eventId = randomUUID();
      await c.eventStore.append({ events: [event(id, 1, "User.Created", '{"n":1}', { eventId })] });
      const error = await rejectionError(
        c.eventStore.append({ events: [event(id, 1, "User.Created", '{"n":2}', { eventId })] }),
      );
      const { code, rawMessage: message } = error;
      expect(code).toBe(Code.AlreadyExists);
      expect(message).toContain(eventId);
      expect(eventIdTakenOf(error)).toMatchObject({ eventId, index: 0 });
      const { events } = await c.eventStore.getEvents({ originatorId: id });
      expect(events.map((e) => e.payload)).toEqual(['{"n":1}']);
    });
  });

  describe("GetEvents", () => {
    it("returns the inclusive version range, 0 meaning unbounded", async () => {
      const id = unique("u");
      await c.eventStore.append({ events: [1, 2, 3, 4, 5].map((v) => event(id, v, "User.Renamed", `{"v":${v}}`)) });
      const versions = async (fromVersion: bigint, toVersion: bigint) =>
        (await c.eventStore.getEvents({ originatorId: id, fromVersion, toVersion })).events.map(
          (e) => e.originator!.version,
        );
      expect(await versions(2n, 4n)).toEqual([2n, 3n, 4n]);
      expect(await versions(4n, 0n)).toEqual([4n, 5n]);
      expect(await versions(0n, 2n)).toEqual([1n, 2n]);
      expect(await versions(3n, 3n)).toEqual([3n]);
      expect(await versions(6n, 0n)).toEqual([]);
    });

    it("returns an empty list for an unknown originator", async () => {
      expect((await c.eventStore.getEvents({ originatorId: unique("nobody") })).events).toEqual([]);
    });

    it("rejects an empty originator id and an inverted range with invalid_argument", async () => {
      expect((await rejection(c.eventStore.getEvents({ originatorId: "" }))).code).toBe(Code.InvalidArgument);
      const inverted = await rejection(c.eventStore.getEvents({ originatorId: "x", fromVersion: 5n, toVersion: 2n }));
      expect(inverted.code).toBe(Code.InvalidArgument);
      expect(inverted.message).toContain("from_version 5 is after to_version 2");
    });
  });

  describe("BatchGetEvents", () => {
    it("returns each range's events, grouped in request order, like GetEvents one range at a time", async () => {
      const [a, b] = [unique("ba"), unique("bb")];
      await c.eventStore.append({ events: [1, 2, 3].map((v) => event(a, v, "Batch.Changed", `{"v":${v}}`)) });
      await c.eventStore.append({ events: [1, 2].map((v) => event(b, v, "Batch.Changed", `{"w":${v}}`)) });
      const ranges = [
        { originatorId: b, fromVersion: 0n, toVersion: 0n },
        { originatorId: unique("nobody"), fromVersion: 0n, toVersion: 0n },
        { originatorId: a, fromVersion: 2n, toVersion: 3n },
        { originatorId: a, fromVersion: 0n, toVersion: 1n },
      ];
      const { results } = await c.eventStore.batchGetEvents({ ranges });
      const one = await Promise.all(ranges.map((r) => c.eventStore.getEvents(r)));
      expect(results.map((r) => r.events.map((e) => [e.originator!.id, e.originator!.version, e.payload]))).toEqual([
        [
          [b, 1n, '{"w":1}'],
          [b, 2n, '{"w":2}'],
        ],
        [],
        [
          [a, 2n, '{"v":2}'],
          [a, 3n, '{"v":3}'],
        ],
        [[a, 1n, '{"v":1}']],
      ]);
      expect(results.map((r) => r.events)).toEqual(one.map((r) => r.events));
    });

    it("rejects a bad range with invalid_argument naming it, and over 1000 ranges with resource_exhausted", async () => {
      const bad = await rejection(
        c.eventStore.batchGetEvents({
          ranges: [{ originatorId: "x" }, { originatorId: "y", fromVersion: 3n, toVersion: 1n }],
        }),
      );
      expect(bad.code).toBe(Code.InvalidArgument);
      expect(bad.message).toContain("ranges[1].from_version 3 is after ranges[1].to_version 1");
      const many = await rejection(
        c.eventStore.batchGetEvents({ ranges: Array.from({ length: 1001 }, (_, i) => ({ originatorId: `o${i}` })) }),
      );
      expect(many.code).toBe(Code.ResourceExhausted);
    });
  });

  describe("GetHead", () => {
    it("returns the id of the latest entry, which moves to the last log id of each append", async () => {
      const id = unique("h");
      const before = (await c.eventStore.getHead({})).headId;
      const { logIds } = await c.eventStore.append({
        events: [event(id, 1, "Head.Created"), event(id, 2, "Head.Renamed")],
      });
      const after = (await c.eventStore.getHead({})).headId;
      expect(logIds[1]).toBeGreaterThan(before);
      // Other tests append concurrently, so the head is at least our last id, and it is an id that exists.
      expect(after).toBeGreaterThanOrEqual(logIds[1]!);
      const { entries } = await c.eventStore.logs({ fromId: after, size: 1 });
      expect(entries[0]?.id).toBe(after);
    });
  });

  describe("Logs", () => {
    /** Appends one event per (entity, action) pair to fresh originators; returns the entity type prefix used. */
    async function seed(entity: string, actions: string[]): Promise<bigint[]> {
      const ids: bigint[] = [];
      for (const action of actions) {
        const { logIds } = await c.eventStore.append({ events: [event(unique("o"), 1, `${entity}.${action}`)] });
        ids.push(logIds[0]!);
      }
      return ids;
    }

    it("pages the whole log with next_from_id, with no gap and no overlap", async () => {
      const entity = unique("E");
      const ids = await seed(
        entity,
        Array.from({ length: 7 }, () => "Happened"),
      );
      const seen: bigint[] = [];
      let fromId = ids[0]!;
      for (let i = 0; i < 10; i++) {
        const page = await c.eventStore.logs({ fromId, size: 3, selector: `${entity}.*` });
        seen.push(...page.entries.map((e) => e.id));
        if (page.entries.length === 0) break;
        fromId = page.nextFromId;
      }
      expect(seen).toEqual(ids);
    });

    it("returns 20 entries by default and rejects a size over 1000", async () => {
      const entity = unique("E");
      await seed(
        entity,
        Array.from({ length: 21 }, () => "Happened"),
      );
      expect((await c.eventStore.logs({ selector: `${entity}.*` })).entries).toHaveLength(20);
      const { code, message } = await rejection(c.eventStore.logs({ size: 1001 }));
      expect(code).toBe(Code.InvalidArgument);
      expect(message).toContain("at most 1000");
    });

    it("filters by selector and pipeline id", async () => {
      const user = unique("com.acme.User");
      const order = unique("Order");
      const [u1, u2, u3] = await seed(user, ["Created", "Deleted", "Created"]);
      const [o1, o2] = await seed(order, ["Created", "Deleted"]);
      const ids = async (selector: string, pipelineId = "") =>
        (await c.eventStore.logs({ fromId: u1!, size: 1000, selector, pipelineId })).entries
          .map((e) => e.id)
          .filter((id) => [u1, u2, u3, o1, o2].includes(id));
      expect(await ids("")).toEqual([u1, u2, u3, o1, o2]);
      expect(await ids("*")).toEqual([u1, u2, u3, o1, o2]);
      expect(await ids(`${user}.*`)).toEqual([u1, u2, u3]);
      expect(await ids(`${user}.Created`)).toEqual([u1, u3]);
      expect(await ids("*.Deleted")).toEqual([u2, o2]);
      expect(await ids("", order)).toEqual([o1, o2]);
      expect(await ids("*.Created", order)).toEqual([o1]);
      expect(await ids(`${user}.*`, order)).toEqual([]);
    });

    it("skips past filtered-out entries: a sparse filter pages to the end without missing a later match", async () => {
      const entity = unique("Rare");
      const noise = unique("Noise");
      const [first] = await seed(entity, ["Happened"]);
      await seed(
        noise,
        Array.from({ length: 30 }, () => "Happened"),
      );
      const page = await c.eventStore.logs({ fromId: first! + 1n, size: 5, selector: `${entity}.*` });
      expect(page.entries).toEqual([]);
      expect(page.nextFromId > first!).toBe(true);
      const [second] = await seed(entity, ["Happened"]);
      const next = await c.eventStore.logs({ fromId: page.nextFromId, size: 5, selector: `${entity}.*` });
      expect(next.entries.map((e) => e.id)).toEqual([second]);
    });

    it.each(["User", "User.", ".Created", "Us*er.Created", "User.Created Extra"])(
      "rejects the selector %j with invalid_argument",
      async (selector) => {
        const { code, message } = await rejection(c.eventStore.logs({ selector }));
        expect(code).toBe(Code.InvalidArgument);
        expect(message).toContain(`selector "${selector}"`);
      },
    );
  });

  describe("LogsPoll", () => {
    it("streams stored entries, then new ones as they commit, filtered", async () => {
      const entity = unique("S");
      const id = unique("o");
      const [first] = (await c.eventStore.append({ events: [event(id, 1, `${entity}.Created`)] })).logIds;
      await c.eventStore.append({ events: [event(unique("o"), 1, `${unique("Other")}.Created`)] });
      const abort = new AbortController();
      const received: AppLogEntry[] = [];
      const reading = (async () => {
        for await (const response of c.eventStore.logsPoll(
          { fromId: first!, selector: `${entity}.*` },
          { signal: abort.signal },
        )) {
          received.push(...response.entries);
          if (received.length === 3) abort.abort();
        }
      })().catch((e: unknown) => {
        if (!(e instanceof ConnectError && e.code === Code.Canceled)) throw e;
      });
      await expect.poll(() => received.length).toBe(1);
      const later = await c.eventStore.append({
        events: [event(id, 2, `${entity}.Renamed`), event(id, 3, `${entity}.Deleted`)],
      });
      await reading;
      expect(received.map((e) => e.id)).toEqual([first, ...later.logIds]);
      expect(received.map((e) => e.event?.eventType)).toEqual([
        `${entity}.Created`,
        `${entity}.Renamed`,
        `${entity}.Deleted`,
      ]);
    });

    it("rejects an invalid selector with invalid_argument", async () => {
      const stream = c.eventStore.logsPoll({ selector: "nope" });
      const { code } = await rejection(
        (async () => {
          for await (const _ of stream) void _;
        })(),
      );
      expect(code).toBe(Code.InvalidArgument);
    });
  });
});
