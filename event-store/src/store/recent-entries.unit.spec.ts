import fc from "fast-check";
import { testSize } from "@eskit/test-kit/test-sizes.js";
import { describe, expect, it } from "vitest";
import type { LogEntry } from "../domain/event.js";
import { entryBytes } from "./read-log-bytes.js";
import { RecentEntries } from "./recent-entries.js";

function entry(id: bigint, payloadLength: number): LogEntry {
  return {
    id,
    event: {
      originatorId: `o-${id}`,
      version: 1n,
      eventType: "T.Done",
      entityType: "T",
      action: "Done",
      payload: "x".repeat(payloadLength),
      metadata: {},
      occurredOn: { seconds: 0n, nanos: 0 },
      eventId: "00000000-0000-4000-8000-000000000000",
    },
  };
}

/**
 * The model: every entry ever pushed, the bounds applied by taking the longest suffix within them (at least the
 * newest entry); a read takes what follows `fromId` in it.
 */
class Model {
  all: LogEntry[] = [];
  floor: bigint;
  constructor(
    head: bigint,
    readonly maxEntries: number,
    readonly maxBytes: number,
  ) {
    this.floor = head;
  }
  held(): LogEntry[] {
    let start = this.all.length;
    let bytes = 0;
    while (start > 0) {
      const next = this.all[start - 1]!;
      const count = this.all.length - start + 1;
      if (start < this.all.length && (count > this.maxEntries || bytes + next.event.payload.length > this.maxBytes)) {
        break;
      }
      bytes += next.event.payload.length;
      start--;
    }
    return this.all.slice(start);
  }
}

type Step =
  | { kind: "push"; gaps: number[]; sizes: number[] }
  | { kind: "read"; back: number; limit: number; maxBytes: number }
  | { kind: "reset"; ahead: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .array(fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 300 })), {
        minLength: 0,
        maxLength: 40,
      })
      .map((pairs) => ({ kind: "push" as const, gaps: pairs.map((p) => p[0]), sizes: pairs.map((p) => p[1]) })),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("read" as const),
      back: fc.integer({ min: -2, max: 120 }),
      limit: fc.integer({ min: 1, max: 50 }),
      maxBytes: fc.oneof(fc.constant(Infinity), fc.integer({ min: 1, max: 5000 })),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("reset" as const), ahead: fc.integer({ min: 0, max: 50 }) }) },
);

describe("RecentEntries", () => {
  it("holds exactly the newest entries within its bounds, and reads what a plain list would, over any pushes", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 1000n }),
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 6000 }),
        fc.array(step, { maxLength: 60 }),
        (start, maxEntries, maxBytes, steps) => {
          const ring = new RecentEntries(start, { maxEntries, maxBytes });
          let model = new Model(start, maxEntries, maxBytes);
          let head = start;
          for (const s of steps) {
            if (s.kind === "push") {
              const batch = s.gaps.map((gap, i) => entry((head += BigInt(gap)), s.sizes[i]!));
              ring.push(batch);
              model.all.push(...batch);
              const held = model.held();
              if (held.length < model.all.length && batch.length > 0) {
                model.floor = model.all[model.all.length - held.length - 1]!.id;
              }
            } else if (s.kind === "reset") {
              head += BigInt(s.ahead);
              ring.reset(head);
              model = new Model(head, maxEntries, maxBytes);
            } else {
              const fromId = head - BigInt(s.back);
              const got = ring.readFrom(fromId, s.limit, s.maxBytes);
              if (fromId <= model.floor) {
                expect(got).toBeUndefined();
                continue;
              }
              const after = model.held().filter((e) => e.id >= fromId);
              const expected: LogEntry[] = [];
              let bytes = 0;
              for (const e of after) {
                if (expected.length >= s.limit || bytes >= s.maxBytes) break;
                expected.push(e);
                bytes += entryBytes(e);
              }
              expect(got).toEqual(expected);
            }
            const held = model.held();
            expect(ring.size).toBe(held.length);
            expect(ring.head).toBe(head);
            expect(ring.floor).toBe(model.floor);
            // Everything held is readable from just above the floor, in order.
            expect(ring.readFrom(ring.floor + 1n, Number.MAX_SAFE_INTEGER)).toEqual(held);
          }
        },
      ),
      { numRuns: testSize(500) },
    );
  });

  it("keeps the newest entry however large, and gives nothing for an id above the head", () => {
    const ring = new RecentEntries(0n, { maxEntries: 20_000, maxBytes: 1000 });
    ring.push([entry(1n, 400), entry(2n, 5000)]);
    expect(ring.readFrom(2n, 10)).toEqual([entry(2n, 5000)]);
    expect(ring.readFrom(1n, 10)).toBeUndefined();
    expect(ring.floor).toBe(1n);
    expect(ring.readFrom(3n, 10)).toEqual([]);
  });
});
