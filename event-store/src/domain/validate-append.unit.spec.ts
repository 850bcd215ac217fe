import { describe, expect, it } from "vitest";
import type { NewEvent } from "./event.js";
import { LimitExceededError, ValidationError } from "./errors.js";
import { validateAppend } from "./validate-append.js";

const limits = { maxEventBytes: 100, maxRequestBytes: 150, maxEvents: 3 };
const event = (over: Partial<NewEvent> = {}): NewEvent => ({
  originatorId: "u1",
  version: 1n,
  eventType: "User.Created",
  payload: '{"name":"Ada"}',
  metadata: {},
  ...over,
});

describe("validateAppend", () => {
  it("fills in the defaults", () => {
    const [valid] = validateAppend([event({ payload: "" })], limits);
    expect(valid!.payload).toBe("{}");
    expect(valid!.eventId).toMatch(/^[0-9a-f-]{36}$/u);
    expect(valid!.occurredOnGiven).toBe(false);
    expect(Math.abs(Number(valid!.occurredOn.seconds) - Date.now() / 1000)).toBeLessThan(5);
    expect(valid).toMatchObject({ entityType: "User", action: "Created" });
  });

  it("keeps what the client gave", () => {
    const occurredOn = { seconds: 1_700_000_000n, nanos: 123_456_789 };
    const [valid] = validateAppend(
      [event({ eventId: "6F1C2A4E-3B2D-4C1A-9E8F-0A1B2C3D4E5F", occurredOn, metadata: { a: "b" } })],
      limits,
    );
    expect(valid).toMatchObject({
      eventId: "6f1c2a4e-3b2d-4c1a-9e8f-0a1b2c3d4e5f",
      occurredOn,
      occurredOnGiven: true,
      metadata: { a: "b" },
    });
  });

  it.each<[string, NewEvent[], string]>([
    ["no events", [], "events is empty"],
    ["an empty originator id", [event({ originatorId: "" })], "events[0].originator.id is empty"],
    ["a 256-char originator id", [event({ originatorId: "x".repeat(256) })], "at most 255"],
    ["version 0", [event({ version: 0n })], "versions start at 1"],
    ["invalid JSON", [event({ payload: "{nope" })], "events[0].payload is not valid JSON"],
    ["a non-UUID event id", [event({ eventId: "abc" })], 'event_id "abc" is not a UUID'],
    [
      "a repeated event id",
      [
        event({ eventId: "6f1c2a4e-3b2d-4c1a-9e8f-0a1b2c3d4e5f" }),
        event({ version: 2n, eventId: "6f1c2a4e-3b2d-4c1a-9e8f-0a1b2c3d4e5f" }),
      ],
      "appears twice",
    ],
    ["non-consecutive versions of one originator", [event(), event({ version: 3n })], "consecutive versions"],
    ["an event type without action", [event({ eventType: "User" })], "events[0].event_type"],
    ["nanos out of range", [event({ occurredOn: { seconds: 0n, nanos: 1_000_000_000 } })], "nanos"],
    ["a NUL in metadata", [event({ metadata: { k: "a\u0000" } })], "NUL"],
    [
      "a __proto__ metadata key",
      [event({ metadata: JSON.parse('{"__proto__":"x"}') as Record<string, string> })],
      "__proto__",
    ],
  ])("rejects %s with invalid_argument", (_name, events, message) => {
    expect(() => validateAppend(events, limits)).toThrow(ValidationError);
    expect(() => validateAppend(events, limits)).toThrow(message);
  });

  it("rejects a payload over the per-event limit", () => {
    const payload = JSON.stringify("x".repeat(99));
    expect(() => validateAppend([event({ payload })], limits)).toThrow(LimitExceededError);
    expect(() => validateAppend([event({ payload })], limits)).toThrow("events[0].payload is 101 bytes: at most 100");
  });

  it("counts bytes, not characters", () => {
    const payload = JSON.stringify("é".repeat(49)); // 98 bytes of é plus 2 quotes
    expect(validateAppend([event({ payload })], limits)).toHaveLength(1);
    expect(() => validateAppend([event({ payload: JSON.stringify("é".repeat(50)) })], limits)).toThrow(
      LimitExceededError,
    );
  });

  it("rejects a request whose payloads exceed the per-request limit", () => {
    const payload = JSON.stringify("x".repeat(78)); // 80 bytes each
    expect(() => validateAppend([event({ payload }), event({ version: 2n, payload })], limits)).toThrow(
      "exceed 150 bytes (at events[1])",
    );
  });

  it("rejects a request with more events than the limit", () => {
    const events = [1n, 2n, 3n, 4n].map((version) => event({ version, payload: "" }));
    expect(() => validateAppend(events, limits)).toThrow(LimitExceededError);
    expect(() => validateAppend(events, limits)).toThrow("this request has 4 events: at most 3 per request");
  });

  it("allows several originators in one request", () => {
    const valid = validateAppend([event(), event({ originatorId: "u2" }), event({ version: 2n })], limits);
    expect(valid.map((e) => [e.originatorId, e.version])).toEqual([
      ["u1", 1n],
      ["u2", 1n],
      ["u1", 2n],
    ]);
  });
});
