import { Code } from "@connectrpc/connect";
import { deepJson } from "@eskit/test-kit/hostile-requests.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Clients, type TestEventStore, clientsFor, protocols, startTestEventStore } from "./harness.js";
import { rejection } from "@eskit/test-kit/rejection.js";

// Values that pass the protocols but cannot be stored, through a real server, once per protocol. Before, each of
// these reached SQL and came back `internal` ("value ... is out of range for type bigint", "invalid byte sequence for
// encoding UTF8: 0x00"). Every refusal must leave the log, the offsets and the snapshots as they were.

let store: TestEventStore;
beforeAll(async () => {
  store = await startTestEventStore();
});
afterAll(async () => {
  await store.stop();
});

const above = [2n ** 63n, 2n ** 64n - 1n];

describe.each(protocols)("malformed input over %s", (protocol) => {
  let c: Clients;
  const id = `m-${protocol}`;
  const consumer = `c-${protocol}`;
  beforeAll(async () => {
    c = clientsFor(store.url, protocol);
    await c.eventStore.append({
      events: [{ originator: { id, version: 1n }, eventType: "User.Created", payload: "{}" }],
    });
    await c.consumers.saveOffset({ consumerId: consumer, offset: 1n });
    await c.eventStore.saveSnapshot({ originatorId: id, version: 1n, payload: '{"v":1}' });
  });
  afterAll(() => c.close());

  /** What a refused request must not change. */
  async function state() {
    return {
      head: (await c.eventStore.getHead({})).headId,
      offset: (await c.consumers.getOffset({ consumerId: consumer })).offset,
      snapshot: await c.eventStore.getSnapshot({ originatorId: id }),
      events: (await c.eventStore.getEvents({ originatorId: id })).events.length,
    };
  }

  const firstOf = async (stream: AsyncIterable<unknown>) => {
    for await (const message of stream) return message;
    return undefined;
  };

  it.each(above)("refuses %s in every uint64 field with invalid_argument, changing nothing", async (value) => {
    const before = await state();
    const calls: Array<[string, () => Promise<unknown>]> = [
      ["from_version", () => c.eventStore.getEvents({ originatorId: id, fromVersion: value })],
      ["to_version", () => c.eventStore.getEvents({ originatorId: id, toVersion: value })],
      [
        "ranges[0].from_version",
        () => c.eventStore.batchGetEvents({ ranges: [{ originatorId: id, fromVersion: value }] }),
      ],
      ["max_version", () => c.eventStore.getSnapshot({ originatorId: id, maxVersion: value })],
      ["version", () => c.eventStore.saveSnapshot({ originatorId: id, version: value, payload: "{}" })],
      ["offset", () => c.consumers.saveOffset({ consumerId: consumer, offset: value })],
      ["from_id", () => c.eventStore.logs({ fromId: value })],
      ["from_id", () => firstOf(c.eventStore.logsPoll({ fromId: value }))],
      [
        "events[0].originator.version",
        () =>
          c.eventStore.append({ events: [{ originator: { id, version: value }, eventType: "User.X", payload: "{}" }] }),
      ],
    ];
    for (const [field, call] of calls) {
      expect(await rejection(call()), field).toEqual({
        code: Code.InvalidArgument,
        message: `${field} is ${value}: at most 9223372036854775807 (64-bit values are stored signed)`,
      });
    }
    expect(await state()).toEqual(before);
  });

  it("refuses a NUL in any string that reaches SQL with invalid_argument, changing nothing", async () => {
    const before = await state();
    const event = { originator: { id, version: 2n }, eventType: "User.Renamed", payload: "{}" };
    const calls: Array<[string, () => Promise<unknown>]> = [
      ["after_id", () => c.eventStore.listOriginators({ entityType: "User", afterId: "a\u0000" })],
      ["exclude_last_action", () => c.eventStore.listOriginators({ entityType: "User", excludeLastAction: "X\u0000" })],
      ["selector", () => c.eventStore.logs({ selector: "User\u0000.*" })],
      ["pipeline_id", () => firstOf(c.eventStore.logsPoll({ pipelineId: "User\u0000" }))],
      ["consumer_id", () => c.consumers.getOffset({ consumerId: "c\u0000" })],
      ["originator_id", () => c.eventStore.getSnapshot({ originatorId: "\u0000" })],
      ["events[0].event_id", () => c.eventStore.append({ events: [{ ...event, eventId: "\u0000" }] })],
      ['events[0].metadata["k"]', () => c.eventStore.append({ events: [{ ...event, metadata: { k: "v\u0000" } }] })],
    ];
    for (const [field, call] of calls) {
      const { code, message } = await rejection(call());
      expect(code, field).toBe(Code.InvalidArgument);
      expect(message, field).toBe(`${field} contains a NUL character (U+0000), which cannot be stored`);
    }
    expect(await state()).toEqual(before);
  });

  it("keeps a payload nested 10,000 deep byte for byte (the Event Store stores JSON text, whatever its depth)", async () => {
    const payload = deepJson(10_000);
    const deep = `${id}-deep`;
    await c.eventStore.append({ events: [{ originator: { id: deep, version: 1n }, eventType: "Doc.Saved", payload }] });
    const { events } = await c.eventStore.getEvents({ originatorId: deep });
    expect(events.map((e) => e.payload)).toEqual([payload]);
  });
});
