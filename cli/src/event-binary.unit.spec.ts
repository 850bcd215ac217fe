import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { type Event, EventSchema } from "@eskit/client";
import { AppendRequestSchema, AppendStreamRequestSchema } from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { appendRequestOf, appendStreamRequestOf } from "./event-binary.js";

// Strings of any UTF-16, lone surrogates included (both writers put U+FFFD in their place), or plain ones.
const text = fc.oneof(fc.string({ unit: "binary", maxLength: 40 }), fc.string({ maxLength: 300 }), fc.constant(""));
const event: fc.Arbitrary<Event> = fc
  .record(
    {
      originator: fc.option(
        fc.record({ id: text, version: fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.constant(0n)) }),
        { nil: undefined },
      ),
      eventType: text,
      payload: text,
      occurredOn: fc.option(
        fc.record({
          seconds: fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.constant(0n)),
          nanos: fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.constant(0)),
        }),
        { nil: undefined },
      ),
      eventId: fc.oneof(fc.uuid(), text),
      metadata: fc.dictionary(text, text, { maxKeys: 5 }),
    },
    { requiredKeys: ["eventType", "payload", "eventId", "metadata"] },
  )
  .map((init) => create(EventSchema, init));

describe("appendStreamRequestOf and appendRequestOf", () => {
  it("writes the bytes toBinary writes for the same events, and they read back as those events", () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 20 }), (events) => {
        const expected = toBinary(AppendStreamRequestSchema, create(AppendStreamRequestSchema, { events }));
        const written = toBinary(AppendStreamRequestSchema, appendStreamRequestOf(events));
        expect(Buffer.from(written).equals(Buffer.from(expected))).toBe(true);
        const append = toBinary(AppendRequestSchema, appendRequestOf(events));
        expect(
          Buffer.from(append).equals(
            Buffer.from(toBinary(AppendRequestSchema, create(AppendRequestSchema, { events }))),
          ),
        ).toBe(true);
        expect(fromBinary(AppendStreamRequestSchema, written).events).toEqual(
          fromBinary(AppendStreamRequestSchema, expected).events,
        );
      }),
      { numRuns: 500 },
    );
  });

  it("writes a batch larger than its first guess of the buffer", () => {
    const big = create(EventSchema, { eventType: "T", payload: "é".repeat(100_000), eventId: "x" });
    const events = [big, big, big];
    const expected = toBinary(AppendStreamRequestSchema, create(AppendStreamRequestSchema, { events }));
    expect(Buffer.from(toBinary(AppendStreamRequestSchema, appendStreamRequestOf(events))).equals(expected)).toBe(true);
  });
});
