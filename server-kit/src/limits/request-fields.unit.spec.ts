import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { SaveOffsetRequestSchema } from "@eskit/gen/eskit/eventstore/v1/consumer_pb.js";
import { AppendRequestSchema, BatchGetEventsRequestSchema } from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { testSize } from "@eskit/test-kit/test-sizes.js";
import { checkRequestFields, maxStoredUint64, requestFieldProblem } from "./request-fields.js";

const event = (fields: { id?: string; version?: bigint; metadata?: Record<string, string> } = {}) => ({
  originator: { id: fields.id ?? "a", version: fields.version ?? 1n },
  eventType: "User.Created",
  payload: "{}",
  metadata: fields.metadata ?? {},
});

describe("requestFieldProblem", () => {
  it("passes every uint64 up to PostgreSQL's bigint maximum and ordinary strings", () => {
    const request = create(AppendRequestSchema, {
      events: [event({ version: maxStoredUint64, metadata: { k: "v" } })],
    });
    expect(requestFieldProblem(AppendRequestSchema, request)).toBeUndefined();
  });

  it("names a uint64 above 2^63-1 by its path, at any depth", () => {
    for (const version of [maxStoredUint64 + 1n, 2n ** 64n - 1n]) {
      const request = create(AppendRequestSchema, { events: [event(), event({ id: "b", version })] });
      expect(requestFieldProblem(AppendRequestSchema, request)).toBe(
        `events[1].originator.version is ${version}: at most 9223372036854775807 (64-bit values are stored signed)`,
      );
    }
    const ranges = create(BatchGetEventsRequestSchema, {
      ranges: [{ originatorId: "a", fromVersion: 1n, toVersion: 2n ** 63n }],
    });
    expect(requestFieldProblem(BatchGetEventsRequestSchema, ranges)).toMatch(
      /^ranges\[0\]\.to_version is 9223372036854775808/,
    );
  });

  it("names a NUL in a string, a map key or a map value", () => {
    const id = create(AppendRequestSchema, { events: [event({ id: "a\u0000b" })] });
    expect(requestFieldProblem(AppendRequestSchema, id)).toBe(
      "events[0].originator.id contains a NUL character (U+0000), which cannot be stored",
    );
    const key = create(AppendRequestSchema, { events: [event({ metadata: { "k\u0000": "v" } })] });
    expect(requestFieldProblem(AppendRequestSchema, key)).toMatch(/^events\[0\]\.metadata key contains a NUL/);
    const value = create(AppendRequestSchema, { events: [event({ metadata: { k: "\u0000" } })] });
    expect(requestFieldProblem(AppendRequestSchema, value)).toMatch(/^events\[0\]\.metadata\["k"\] contains a NUL/);
  });

  it("refuses a lone surrogate, which UTF-8 cannot carry", () => {
    const request = create(SaveOffsetRequestSchema, { consumerId: "c\ud800", offset: 1n });
    expect(requestFieldProblem(SaveOffsetRequestSchema, request)).toBe(
      "consumer_id contains a lone UTF-16 surrogate: a string must be valid Unicode",
    );
  });

  it("finds a problem exactly when some field has one, wherever it is", () => {
    // The check walks twice (whether anything is wrong, then what): the walks must agree on every message.
    const unit = fc.oneof(
      fc.constantFrom("a", "é", "\u0000", "\ud800", "\udc00", "\ud83d\ude00"),
      fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
    );
    const text = fc.string({ unit, maxLength: 4 });
    const uint64 = fc.oneof(
      fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      fc.constantFrom(maxStoredUint64, maxStoredUint64 + 1n),
    );
    const bad = (s: string) => s.includes("\u0000") || !(s as string & { isWellFormed(): boolean }).isWellFormed();
    const events = fc.array(
      fc.record({
        originator: fc.option(fc.record({ id: text, version: uint64 }), { nil: undefined }),
        eventType: text,
        payload: text,
        eventId: text,
        metadata: fc.dictionary(text, text, { maxKeys: 3 }),
      }),
      { maxLength: 4 },
    );
    fc.assert(
      fc.property(events, (list) => {
        const request = create(AppendRequestSchema, { events: list });
        const expected = list.some(
          (e) =>
            (e.originator !== undefined && (bad(e.originator.id) || e.originator.version > maxStoredUint64)) ||
            [e.eventType, e.payload, e.eventId].some(bad) ||
            Object.entries(e.metadata).some(([k, v]) => bad(k) || bad(v)),
        );
        const problem = requestFieldProblem(AppendRequestSchema, request);
        expect(problem !== undefined).toBe(expected);
      }),
      { numRuns: testSize(2000) },
    );
  });

  it("is thrown as invalid_argument by checkRequestFields", () => {
    const request = create(SaveOffsetRequestSchema, { consumerId: "c", offset: 2n ** 64n - 1n });
    const error = (() => {
      try {
        checkRequestFields(SaveOffsetRequestSchema, request);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.InvalidArgument);
    expect((error as ConnectError).rawMessage).toMatch(/^offset is 18446744073709551615: at most/);
  });
});
