import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { Code, createClient, type Client } from "@connectrpc/connect";
import { createNodeTransport, type NodeTransport } from "@eskit/client/node.js";
import { ConsumerService } from "@eskit/gen/contracts/consumerstore/service_pb.js";
import { type AppLogEntry, type Event, EventSchema } from "@eskit/gen/contracts/eventstore/event_pb.js";
import { EventstoreService } from "@eskit/gen/contracts/eventstore/service_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Clients, type TestEventStore, clientsFor, startTestEventStore } from "./harness.js";
import { rejection } from "@eskit/test-kit/rejection.js";

// The original ESKIT v1 contracts on the Event Store's port, driven the way v1 clients call them: gRPC over HTTP/2
// with clients generated from proto-compat/, plus Connect JSON as curl sends it. Tests share one store, so each
// uses its own originators and entity types.

let store: TestEventStore;
let transport: NodeTransport;
let v1: Client<typeof EventstoreService>;
let consumers: Client<typeof ConsumerService>;
let ours: Clients;
beforeAll(async () => {
  store = await startTestEventStore();
  transport = createNodeTransport({ baseUrl: store.url, protocol: "grpc" });
  v1 = createClient(EventstoreService, transport);
  consumers = createClient(ConsumerService, transport);
  ours = clientsFor(store.url, "grpc");
});
afterAll(async () => {
  transport.close();
  ours.close();
  await store.stop();
});

const unique = (prefix: string) => `${prefix}${randomUUID().replaceAll("-", "").slice(0, 12)}`;

const v1Event = (id: string, version: string, eventType: string, payload = "{}", occuredOn = 0n): Event =>
  create(EventSchema, { originator: { id, version }, eventType, payload, occuredOn });

/** Appends `count` events of entity type `entity`, each its own originator, through v1. */
async function appendMany(entity: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await v1.append({ event: v1Event(unique("o-"), "1", `${entity}.Created`, `{"i":${i}}`) });
  }
}

describe("v1 EventstoreService over gRPC", () => {
  it("answers Healtz with OK on both v1 services", async () => {
    expect((await v1.healtz({})).message).toBe("OK");
    expect((await consumers.healtz({})).message).toBe("OK");
  });

  it("gives events back exactly as appended: occured_on 0 and non-zero, payloads byte for byte", async () => {
    const id = unique("exact-");
    const sent = [
      v1Event(id, "1", "V1Exact.Created", "", 0n),
      v1Event(id, "2", "V1Exact.Renamed", '{ "name" :  "Ada",\n"n": 1.50 }', 1_700_000_000n),
      v1Event(id, "3", "V1Exact.Renamed", '{"name":"Zoë 🚀"}', 1_700_000_000_123n),
      v1Event(id, "4", "V1Exact.Renamed", "[]", -5n),
    ];
    for (const event of sent) await v1.append({ event });
    const { events } = await v1.getEvents({ originator: { id, version: "" } });
    expect(events).toEqual(sent);
  });

  it("stores a non-zero occured_on as the event's time (seconds, or milliseconds from 1e12 on)", async () => {
    const id = unique("time-");
    await v1.append({ event: v1Event(id, "1", "V1Time.Created", "{}", 1_700_000_000n) });
    await v1.append({ event: v1Event(id, "2", "V1Time.Renamed", "{}", 1_700_000_000_123n) });
    const { events } = await ours.eventStore.getEvents({ originatorId: id });
    expect(events.map((e) => [e.occurredOn?.seconds, e.occurredOn?.nanos])).toEqual([
      [1_700_000_000n, 0],
      [1_700_000_000n, 123_000_000],
    ]);
  });

  it("returns occured_on in Unix seconds for events appended through our own API", async () => {
    const id = unique("ours-");
    await ours.eventStore.append({
      events: [
        {
          originator: { id, version: 1n },
          eventType: "V1Ours.Created",
          payload: '{"a":1}',
          occurredOn: { seconds: 1_600_000_000n, nanos: 999_000_000 },
          metadata: { trace: "x" },
        },
      ],
    });
    const { events } = await v1.getEvents({ originator: { id, version: "" } });
    expect(events).toEqual([v1Event(id, "1", "V1Ours.Created", '{"a":1}', 1_600_000_000n)]);
  });

  it("GetEvents returns events from originator.version on, filtered by entity_type when set", async () => {
    const id = unique("from-");
    for (const v of ["1", "2", "3"]) await v1.append({ event: v1Event(id, v, "V1From.Changed") });
    const fromTwo = await v1.getEvents({ originator: { id, version: "2" } });
    expect(fromTwo.events.map((e) => e.originator?.version)).toEqual(["2", "3"]);
    expect((await v1.getEvents({ originator: { id, version: "" }, entityType: "V1From" })).events).toHaveLength(3);
    expect((await v1.getEvents({ originator: { id, version: "" }, entityType: "Other" })).events).toEqual([]);
    expect((await v1.getEvents({ originator: { id: unique("nobody-"), version: "" } })).events).toEqual([]);
    expect((await rejection(v1.getEvents({ originator: { id, version: "x" } }))).code).toBe(Code.InvalidArgument);
  });

  it("Append of an existing (id, version) is already_exists; a gap is failed_precondition", async () => {
    const id = unique("dup-");
    await v1.append({ event: v1Event(id, "1", "V1Dup.Created") });
    expect((await rejection(v1.append({ event: v1Event(id, "1", "V1Dup.Created") }))).code).toBe(Code.AlreadyExists);
    expect((await rejection(v1.append({ event: v1Event(id, "3", "V1Dup.Renamed") }))).code).toBe(
      Code.FailedPrecondition,
    );
  });

  it("Append rejects an empty, signed or non-decimal version, and a missing event, with invalid_argument", async () => {
    const id = unique("bad-");
    for (const version of ["", "-1", "+1", " 1", "1e3", "0x1", "99999999999999999999"]) {
      const { code } = await rejection(v1.append({ event: v1Event(id, version, "V1Bad.Created") }));
      expect(code, version).toBe(Code.InvalidArgument);
    }
    expect((await rejection(v1.append({}))).code).toBe(Code.InvalidArgument);
    expect((await v1.getEvents({ originator: { id, version: "" } })).events).toEqual([]);
  });

  it("Logs pages 20 entries by default, filters by selector, and from_id is inclusive", async () => {
    const entity = unique("V1Logs");
    await appendMany(entity, 25);
    await v1.append({ event: v1Event(unique("o-"), "1", `${unique("V1Other")}.Created`) });
    const first = await v1.logs({ selector: `${entity}.*` });
    expect(first.results).toHaveLength(20);
    expect(first.results.map((r) => JSON.parse(r.event!.payload) as unknown)).toEqual(
      Array.from({ length: 20 }, (_, i) => ({ i })),
    );
    const ids = first.results.map((r) => BigInt(r.id));
    expect(ids).toEqual([...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    const from = first.results[5]!.id;
    const next = await v1.logs({ selector: `${entity}.*`, fromId: from, size: 100 });
    expect(next.results.slice(0, 15)).toEqual(first.results.slice(5));
    expect(next.results).toHaveLength(20);
    expect(next.results[0]!.id).toBe(from);
    expect((await v1.logs({ selector: `*.Created`, pipelineId: entity, size: 3 })).results).toEqual(
      first.results.slice(0, 3),
    );
    expect((await v1.logs({ selector: `${entity}.Deleted` })).results).toEqual([]);
  });

  it("Logs rejects a malformed from_id or selector with invalid_argument", async () => {
    expect((await rejection(v1.logs({ fromId: "abc" }))).code).toBe(Code.InvalidArgument);
    expect((await rejection(v1.logs({ fromId: "-1" }))).code).toBe(Code.InvalidArgument);
    expect((await rejection(v1.logs({ selector: "NoDot" }))).code).toBe(Code.InvalidArgument);
  });

  it("LogsPoll streams one entry per message from the beginning, then live entries", async () => {
    const entity = unique("V1Poll");
    await appendMany(entity, 3);
    const abort = new AbortController();
    const stream = v1.logsPoll({ selector: `${entity}.*` }, { signal: abort.signal })[Symbol.asyncIterator]();
    try {
      const caughtUp = [await next(stream), await next(stream), await next(stream)];
      expect(caughtUp.map((e) => e.event?.payload)).toEqual(['{"i":0}', '{"i":1}', '{"i":2}']);
      const live = unique("live-");
      await v1.append({ event: v1Event(live, "1", `${entity}.Created`, '{"live":true}', 42n) });
      const arrived = await next(stream);
      expect(arrived.event).toEqual(v1Event(live, "1", `${entity}.Created`, '{"live":true}', 42n));
      expect(BigInt(arrived.id)).toBeGreaterThan(BigInt(caughtUp[2]!.id));
    } finally {
      abort.abort();
    }
  });

  it("LogsPoll resumes from an offset saved with LogConsume", async () => {
    const entity = unique("V1Resume");
    await appendMany(entity, 4);
    const { results } = await v1.logs({ selector: `${entity}.*` });
    const consumerId = unique("resume-");
    await consumers.logConsume({ consumerId, offset: results[2]!.id });
    const { offset } = await consumers.getLogConsume({ consumerId });
    const abort = new AbortController();
    const stream = v1
      .logsPoll({ selector: `${entity}.*`, fromId: offset }, { signal: abort.signal })
      [Symbol.asyncIterator]();
    try {
      expect([await next(stream), await next(stream)]).toEqual(results.slice(2));
      await v1.append({ event: v1Event(unique("o-"), "1", `${entity}.Created`, '{"i":4}') });
      expect((await next(stream)).event?.payload).toBe('{"i":4}');
    } finally {
      abort.abort();
    }
  });
});

describe("v1 ConsumerService over gRPC", () => {
  it("saves, reads, overwrites and lists offsets as decimal strings", async () => {
    const consumerId = unique("c-");
    await consumers.logConsume({ consumerId, offset: "42" });
    expect(await consumers.getLogConsume({ consumerId })).toMatchObject({ consumerId, offset: "42" });
    await consumers.logConsume({ consumerId, offset: "7" });
    expect(await consumers.getLogConsume({ consumerId })).toMatchObject({ consumerId, offset: "7" });
    const { consumers: all } = await consumers.list({});
    expect(all.filter((c) => c.consumerId === consumerId).map((c) => c.offset)).toEqual(["7"]);
    // The same offsets as our ConsumerService.
    expect((await ours.consumers.getOffset({ consumerId })).offset).toBe(7n);
  });

  it("GetLogConsume of an unknown consumer is not_found; a non-decimal offset is invalid_argument", async () => {
    expect((await rejection(consumers.getLogConsume({ consumerId: unique("none-") }))).code).toBe(Code.NotFound);
    for (const offset of ["", "x", "1.5", "-3"]) {
      expect((await rejection(consumers.logConsume({ consumerId: unique("c-"), offset }))).code, offset).toBe(
        Code.InvalidArgument,
      );
    }
  });
});

describe("v1 over Connect JSON", () => {
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${store.url}/${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as unknown };
  };

  it("answers with exactly the v1 fields, int64 as strings, zero values left out", async () => {
    const id = unique("json-");
    const entity = unique("V1Json");
    const es = "contracts.eventstore.EventstoreService";
    expect(
      await post(`${es}/Append`, {
        event: { originator: { id, version: "1" }, eventType: `${entity}.Created`, payload: "", occuredOn: "0" },
      }),
    ).toEqual({ status: 200, body: {} });
    await post(`${es}/Append`, {
      event: { originator: { id, version: "2" }, eventType: `${entity}.Renamed`, payload: '{"a":1}', occuredOn: "5" },
    });
    expect(await post(`${es}/GetEvents`, { originator: { id } })).toEqual({
      status: 200,
      body: {
        events: [
          { originator: { id, version: "1" }, eventType: `${entity}.Created` },
          { originator: { id, version: "2" }, eventType: `${entity}.Renamed`, payload: '{"a":1}', occuredOn: "5" },
        ],
      },
    });
    const logs = await post(`${es}/Logs`, { selector: `${entity}.Renamed` });
    const entries = (logs.body as { results: Array<{ id: string }> }).results;
    expect(logs.body).toEqual({
      results: [
        {
          id: entries[0]!.id,
          event: {
            originator: { id, version: "2" },
            eventType: `${entity}.Renamed`,
            payload: '{"a":1}',
            occuredOn: "5",
          },
        },
      ],
    });
    expect(entries[0]!.id).toMatch(/^[1-9][0-9]*$/);
    expect(await post(`${es}/Healtz`, {})).toEqual({ status: 200, body: { message: "OK" } });
    const cs = "contracts.consumerstore.ConsumerService";
    await post(`${cs}/LogConsume`, { consumerId: id, offset: "12" });
    expect(await post(`${cs}/GetLogConsume`, { consumerId: id })).toEqual({
      status: 200,
      body: { consumerId: id, offset: "12" },
    });
  });
});

async function next(stream: AsyncIterator<AppLogEntry>): Promise<AppLogEntry> {
  const result = await stream.next();
  if (result.done === true) throw new Error("the LogsPoll stream ended");
  return result.value;
}
