import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { testSize } from "@eskit/test-kit/test-sizes.js";
import { ConcurrencyError, DuplicateEventError, VersionGapError } from "./errors.js";
import type { ValidEvent } from "./validate-append.js";
import { type ExistingEvent, type RequestPlan, planBatch } from "./plan-batch.js";

const uuid = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;
const event = (originatorId: string, version: bigint, n: number, payload = "{}"): ValidEvent => ({
  originatorId,
  version,
  eventType: "T.Happened",
  entityType: "T",
  action: "Happened",
  payload,
  metadata: {},
  occurredOn: { seconds: 0n, nanos: 0 },
  occurredOnGiven: false,
  eventIdGiven: true,
  eventId: uuid(n),
});
const kinds = (plans: RequestPlan[]) => plans.map((p) => (p.kind === "reject" ? p.error.constructor.name : p.kind));

describe("planBatch", () => {
  it("judges each request against the ones before it in the batch", () => {
    const plans = planBatch(
      [[event("a", 1n, 1)], [event("a", 1n, 2)], [event("a", 2n, 3)], [event("a", 4n, 4)]],
      new Map(),
      new Map(),
    );
    expect(kinds(plans)).toEqual(["insert", ConcurrencyError.name, "insert", VersionGapError.name]);
    const rejected = plans[1];
    expect(rejected?.kind === "reject" && (rejected.error as ConcurrencyError).currentVersion).toBe(1n);
  });

  it("answers a retry of a stored request with its log ids", () => {
    const stored: ExistingEvent = { ...event("a", 1n, 1), logId: 42n };
    const plans = planBatch([[event("a", 1n, 1)]], new Map([[uuid(1), stored]]), new Map([["a", 1n]]));
    expect(plans).toEqual([{ kind: "replay", sources: [stored] }]);
  });

  it("answers a retry of a request earlier in the same batch", () => {
    const plans = planBatch(
      [
        [event("a", 1n, 1), event("a", 2n, 2)],
        [event("a", 1n, 1), event("a", 2n, 2)],
      ],
      new Map(),
      new Map(),
    );
    expect(plans[1]).toEqual({
      kind: "replay",
      sources: [
        { request: 0, index: 0 },
        { request: 0, index: 1 },
      ],
    });
  });

  it("rejects an event id reused with other content", () => {
    const stored: ExistingEvent = { ...event("a", 1n, 1), logId: 42n };
    const [plan] = planBatch([[event("a", 1n, 1, '{"x":1}')]], new Map([[uuid(1), stored]]), new Map([["a", 1n]]));
    expect(plan?.kind === "reject" && plan.error).toBeInstanceOf(DuplicateEventError);
    expect(plan?.kind === "reject" && plan.error.message).toContain("already stored with another payload");
  });

  it("rejects a retry that adds new events to a stored request", () => {
    const stored: ExistingEvent = { ...event("a", 1n, 1), logId: 42n };
    const [plan] = planBatch(
      [[event("a", 1n, 1), event("a", 2n, 2)]],
      new Map([[uuid(1), stored]]),
      new Map([["a", 1n]]),
    );
    expect(plan?.kind === "reject" && plan.error.message).toContain("events[1].event_id");
  });

  // The property that makes group commit safe: a batch decides exactly what the same requests would get, one
  // transaction each, in batch order.
  it("plans a batch exactly as it would plan each request alone, in order", () => {
    const request = fc.array(
      fc.record({
        originator: fc.constantFrom("a", "b", "c"),
        version: fc.integer({ min: 1, max: 4 }),
        count: fc.integer({ min: 1, max: 2 }),
      }),
      { minLength: 1, maxLength: 2 },
    );
    fc.assert(
      fc.property(
        fc.array(request, { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 0, max: 3 }),
        (shapes, start) => {
          let n = 0;
          const requests = shapes.map((shape) => {
            const seen = new Set<string>();
            return shape
              .filter((s) => !seen.has(s.originator) && seen.add(s.originator))
              .flatMap((s) =>
                Array.from({ length: s.count }, (_, i) => event(s.originator, BigInt(s.version + i), n++)),
              );
          });
          const current = new Map([["a", BigInt(start)]]);
          const batched = kinds(planBatch(requests, new Map(), current));
          const alone: string[] = [];
          const versions = new Map(current);
          for (const req of requests) {
            const [kind] = kinds(planBatch([req], new Map(), versions));
            alone.push(kind!);
            if (kind === "insert") for (const e of req) versions.set(e.originatorId, e.version);
          }
          expect(batched).toEqual(alone);
        },
      ),
      { numRuns: testSize(300) },
    );
  });
});
