import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { encodePayload, toEvent } from "./new-event.js";

describe("encodePayload", () => {
  it("JSON-encodes an object", () => {
    expect(encodePayload({ name: "Ada", tags: ["a"], n: 1 })).toBe('{"name":"Ada","tags":["a"],"n":1}');
  });

  it("keeps a string byte for byte, spacing and key order included", () => {
    const text = '{ "b": 1,  "a": "é" }';
    expect(encodePayload(text)).toBe(text);
  });

  it("sends an absent payload as empty text, which the store reads as {}", () => {
    expect(encodePayload(undefined)).toBe("");
  });

  it("JSON-encodes arrays, numbers and null rather than guessing", () => {
    expect(encodePayload([1, 2])).toBe("[1,2]");
    expect(encodePayload(42)).toBe("42");
    expect(encodePayload(null)).toBe("null");
  });

  it("rejects a payload JSON cannot encode with invalid_argument", () => {
    for (const payload of [() => 1, Symbol("s"), { n: 1n }]) {
      let caught: unknown;
      try {
        encodePayload(payload);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(ConnectError);
      expect((caught as ConnectError).code).toBe(Code.InvalidArgument);
    }
  });

  it("rejects a cyclic payload with invalid_argument", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic["self"] = cyclic;
    expect(() => encodePayload(cyclic)).toThrow(/not JSON-serialisable/);
  });
});

describe("toEvent", () => {
  it("maps every field of a new event onto the proto event", () => {
    const occurredOn = new Date("2024-05-06T07:08:09.123Z");
    const event = toEvent({
      originatorId: "user-1",
      version: 9007199254740993n,
      eventType: "User.Created",
      payload: { name: "Ada" },
      eventId: "6f1c1f4e-3b1a-4c1e-9b1a-1a2b3c4d5e6f",
      metadata: { tenant: "t1" },
      occurredOn,
    });
    expect(event.originator?.id).toBe("user-1");
    expect(event.originator?.version).toBe(9007199254740993n);
    expect(event.eventType).toBe("User.Created");
    expect(event.payload).toBe('{"name":"Ada"}');
    expect(event.eventId).toBe("6f1c1f4e-3b1a-4c1e-9b1a-1a2b3c4d5e6f");
    expect(event.metadata).toEqual({ tenant: "t1" });
    expect(timestampDate(event.occurredOn!).toISOString()).toBe("2024-05-06T07:08:09.123Z");
  });

  it("leaves optional fields empty so the store fills them in", () => {
    const event = toEvent({ originatorId: "o", version: 1n, eventType: "Order.Placed" });
    expect(event.eventId).toBe("");
    expect(event.payload).toBe("");
    expect(event.metadata).toEqual({});
    expect(event.occurredOn).toBeUndefined();
  });

  it("copies metadata so later changes by the caller do not leak into the request", () => {
    const metadata = { a: "1" };
    const event = toEvent({ originatorId: "o", version: 1n, eventType: "T.A", metadata });
    metadata.a = "2";
    expect(event.metadata).toEqual({ a: "1" });
  });
});
