import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { testSize } from "@eskit/test-kit/test-sizes.js";
import type { ValidEvent } from "../domain/validate-append.js";
import { jsonString } from "../domain/json-string.js";
import { checkedWriteInput, checkedWriteVersions } from "./checked-write-input.js";

/** What append-batch.ts sent before the encoders were written by hand: JSON.stringify over an object per event. */
function referenceInput(batch: readonly ValidEvent[]): string {
  return JSON.stringify(
    batch.map((e, n) => ({
      n,
      event_id: e.eventId,
      originator_id: e.originatorId,
      version: e.version.toString(),
      entity_type: e.entityType,
      action: e.action,
      event_type: e.eventType,
      payload: e.payload,
      metadata: e.metadata,
      seconds: e.occurredOn.seconds.toString(),
      nanos: e.occurredOn.nanos,
    })),
  );
}

function referenceVersions(expected: ReadonlyMap<string, bigint>): string {
  return JSON.stringify([...expected].map(([id, version]) => ({ originator_id: id, version: String(version) })));
}

/** Any UTF-16 code unit, lone surrogates and control characters included. */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
/** Strings JSON.stringify writes as they are, and the ones it escapes: quotes, backslashes, controls, surrogates. */
const text = fc.oneof(
  fc.string(),
  fc.string({ unit: "grapheme" }),
  fc.string({ unit: "binary" }),
  fc.string({ unit: codeUnit }),
  fc.string({ unit: fc.constantFrom('"', "\\", "\u0000", "\n", "\u001f", "\u007f", "\ud800", "\udc00", "a", "é") }),
  fc.constant(""),
);
/** Map keys as JSON and JavaScript objects treat them apart: integer-like ones (ordered first), and prototype names. */
const key = fc.oneof(text, fc.nat().map(String), fc.constantFrom("__proto__", "constructor", "toString", "toJSON"));
const bigint = fc.oneof(fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }), fc.constantFrom(0n, -1n, 1n));

const validEvent: fc.Arbitrary<ValidEvent> = fc.record({
  originatorId: text,
  version: bigint,
  eventType: text,
  entityType: text,
  action: text,
  payload: fc.oneof(text, fc.json()),
  occurredOn: fc.record({
    seconds: bigint,
    nanos: fc.oneof(fc.integer({ min: 0, max: 999_999_999 }), fc.double(), fc.constantFrom(-0, NaN, Infinity)),
  }),
  eventId: fc.oneof(fc.uuid(), text),
  metadata: fc.dictionary(key, text, { maxKeys: 5 }),
  occurredOnGiven: fc.boolean(),
  eventIdGiven: fc.boolean(),
});

describe("checked-write-input", () => {
  it("writes exactly JSON.stringify's text for any string", () => {
    fc.assert(
      fc.property(text, (s) => {
        expect(jsonString(s)).toBe(JSON.stringify(s));
      }),
      { numRuns: testSize(5000) },
    );
  });

  it("writes exactly the input JSON.stringify wrote for any batch", () => {
    fc.assert(
      fc.property(fc.array(validEvent, { maxLength: 8 }), (batch) => {
        const input = checkedWriteInput(batch);
        expect(input).toBe(referenceInput(batch));
        expect(JSON.parse(input)).toEqual(JSON.parse(referenceInput(batch)));
      }),
      { numRuns: testSize(2000) },
    );
  });

  it("writes metadata JSON.stringify would write otherwise as JSON.stringify does", () => {
    // Not a map of strings (a caller outside the RPCs could pass one), or one with a toJSON of its own.
    const odd = [
      { a: 1, b: "x" },
      { a: undefined, b: null },
      Object.assign(Object.create({ toJSON: () => ({ replaced: true }) }) as object, { a: "b" }),
    ] as unknown as Record<string, string>[];
    for (const metadata of odd) {
      const batch: ValidEvent[] = [
        {
          originatorId: "o",
          version: 1n,
          eventType: "A.B",
          entityType: "A",
          action: "B",
          payload: "{}",
          occurredOn: { seconds: 1n, nanos: 2 },
          eventId: "e",
          metadata,
          occurredOnGiven: true,
          eventIdGiven: true,
        },
      ];
      expect(checkedWriteInput(batch)).toBe(referenceInput(batch));
    }
  });

  it("writes exactly the versions JSON.stringify wrote", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(text, bigint), { maxLength: 8 }), (entries) => {
        const expected = new Map(entries);
        expect(checkedWriteVersions(expected)).toBe(referenceVersions(expected));
      }),
      { numRuns: testSize(1000) },
    );
  });
});
