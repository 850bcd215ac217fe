import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { EventSchema } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import {
  BatchGetEventsResponseSchema,
  type GetEventsResponse,
  GetEventsResponseSchema,
} from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
import type { HistorySlice } from "../store/event-store-port.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeEvent, type LeanEvents, leanMethods, sliceOfGetEvents, slicesOfBatchGetEvents } from "./lean-events.js";

const uint64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const text = fc.oneof(fc.string(), fc.string({ unit: "grapheme" }), fc.constant(""));
const key = text.filter((k) => k !== "__proto__");
const event = fc.record({
  originator: fc.option(fc.record({ id: text, version: uint64 }), { nil: undefined }),
  eventType: text,
  payload: fc.oneof(text, fc.json()),
  occurredOn: fc.option(
    fc.record({
      seconds: fc.bigInt({ min: -62_135_596_800n, max: 253_402_300_799n }),
      nanos: fc.integer({ min: 0, max: 999_999_999 }),
    }),
    { nil: undefined },
  ),
  eventId: fc.oneof(fc.uuid(), fc.constant("")),
  metadata: fc.dictionary(key, text, { maxKeys: 4 }),
});
const response = fc.record({
  events: fc.array(event, { maxLength: 4 }),
  snapshot: fc.option(fc.record({ version: uint64, payload: fc.oneof(text, fc.json()) }), { nil: undefined }),
});

/** What protobuf-es decoded, in the core's types (times as plain Instants): what the hand decoder must give. */
const reference = (r: GetEventsResponse): HistorySlice => ({
  snapshot: r.snapshot === undefined ? undefined : { version: r.snapshot.version, payload: r.snapshot.payload },
  events: r.events.map((e) => ({
    originatorId: e.originator?.id ?? "",
    version: e.originator?.version ?? 0n,
    eventType: e.eventType,
    payload: e.payload,
    metadata: e.metadata,
    occurredOn: e.occurredOn === undefined ? undefined : { seconds: e.occurredOn.seconds, nanos: e.occurredOn.nanos },
  })),
});

const lean = (bytes: Uint8Array) => fromBinary(leanMethods.getEvents.output, bytes) as unknown as LeanEvents;

// The gateway reads events with its own decoder: it must give exactly what protobuf-es and the ordinary conversion
// give, for any event the Event Store can send.
describe("lean-events", () => {
  it("reads an Event Store event as a stored event, keeping its time as sent", () => {
    const occurredOn = timestampFromMs(1_700_000_000_123);
    const event = create(EventSchema, {
      originator: { id: "u1", version: 7n },
      eventType: "acme.User.Updated",
      payload: '{"a":1}',
      metadata: { "eskit.encoding": "document" },
      occurredOn,
    });
    expect(decodeEvent(toBinary(EventSchema, event))).toEqual({
      originatorId: "u1",
      version: 7n,
      eventType: "acme.User.Updated",
      payload: '{"a":1}',
      metadata: { "eskit.encoding": "document" },
      occurredOn: { seconds: 1_700_000_000n, nanos: 123_000_000 },
    });
  });

  it("decodes a GetEventsResponse as protobuf-es does", () => {
    fc.assert(
      fc.property(response, (r) => {
        const bytes = toBinary(GetEventsResponseSchema, create(GetEventsResponseSchema, r));
        expect(sliceOfGetEvents(lean(bytes))).toEqual(reference(fromBinary(GetEventsResponseSchema, bytes)));
      }),
      { numRuns: 500 },
    );
  });

  it("decodes a BatchGetEventsResponse as protobuf-es does", () => {
    fc.assert(
      fc.property(fc.array(response, { maxLength: 5 }), (results) => {
        const bytes = toBinary(BatchGetEventsResponseSchema, create(BatchGetEventsResponseSchema, { results }));
        expect(slicesOfBatchGetEvents(lean(bytes))).toEqual(
          fromBinary(BatchGetEventsResponseSchema, bytes).results.map(reference),
        );
      }),
      { numRuns: 300 },
    );
  });

  it("tells an empty snapshot (present, zero bytes) from none", () => {
    const bytes = toBinary(GetEventsResponseSchema, create(GetEventsResponseSchema, { snapshot: {} }));
    expect(sliceOfGetEvents(lean(bytes)).snapshot).toEqual({ version: 0n, payload: "" });
    expect(sliceOfGetEvents(lean(toBinary(GetEventsResponseSchema, create(GetEventsResponseSchema)))).snapshot).toBe(
      undefined,
    );
  });

  it("refuses a truncated message instead of reading past it", () => {
    const bytes = toBinary(
      BatchGetEventsResponseSchema,
      create(BatchGetEventsResponseSchema, { results: [{ events: [{ eventType: "a.B", payload: "{}" }] }] }),
    );
    const inner = lean(bytes).repeatedBytes[0]!;
    expect(() =>
      slicesOfBatchGetEvents({ repeatedBytes: [inner.subarray(0, inner.length - 1)], singleBytes: new Uint8Array() }),
    ).toThrow(/truncated/);
  });
});
