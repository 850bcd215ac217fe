/**
 * Assertions shared by the concurrency e2e tests: what a LogsPoll reader received against what the appends
 * acknowledged, and each originator's history against the acknowledged versions.
 */
import { expect } from "vitest";
import type { AppLogEntry, EventStoreClient } from "@eskit/client";
import type { AckedEvent } from "@eskit/test-kit/append-workload.js";

/** Pairs of consecutive entries whose ids do not strictly increase, as readable strings (empty when ordered). */
export function orderViolations(entries: readonly AppLogEntry[]): string[] {
  const violations: string[] = [];
  for (let i = 1; i < entries.length; i++) {
    if (entries[i]!.id <= entries[i - 1]!.id) {
      violations.push(`#${i}: id ${entries[i]!.id} after ${entries[i - 1]!.id}`);
    }
  }
  return violations;
}

/**
 * The reader got every acknowledged event exactly once, in strictly increasing id order, each under the log id its
 * Append response gave and with the content appended, and nothing else: no refused event, nothing unacknowledged.
 */
export function expectLogMatchesAcked(
  received: readonly AppLogEntry[],
  acked: ReadonlyMap<string, AckedEvent>,
  rejectedEventIds: ReadonlySet<string>,
): void {
  expect(orderViolations(received).slice(0, 10)).toEqual([]);

  const seen = new Map<string, number>();
  for (const entry of received) {
    const id = entry.event?.eventId ?? "";
    seen.set(id, (seen.get(id) ?? 0) + 1);
  }
  const duplicates = [...seen].filter(([, n]) => n > 1).map(([id, n]) => `${id} x${n}`);
  expect(duplicates.slice(0, 10)).toEqual([]);
  const refusedButDelivered = [...seen.keys()].filter((id) => rejectedEventIds.has(id));
  expect(refusedButDelivered.slice(0, 10)).toEqual([]);
  const unacknowledged = [...seen.keys()].filter((id) => !acked.has(id));
  expect(unacknowledged.slice(0, 10)).toEqual([]);
  const missing = [...acked.keys()].filter((id) => !seen.has(id));
  expect(missing.slice(0, 10)).toEqual([]);
  expect(received.length).toBe(acked.size);

  const mismatched = received
    .map((entry) => {
      const event = entry.event!;
      const want = acked.get(event.eventId)!;
      const got = {
        logId: entry.id,
        originatorId: event.originator?.id,
        version: event.originator?.version,
        eventType: event.eventType,
        payload: event.payload,
      };
      const expected = {
        logId: want.logId,
        originatorId: want.originatorId,
        version: want.version,
        eventType: want.eventType,
        payload: want.payload,
      };
      return JSON.stringify(got, bigintText) === JSON.stringify(expected, bigintText)
        ? undefined
        : { eventId: event.eventId, got, expected };
    })
    .filter((m) => m !== undefined);
  expect(mismatched.slice(0, 5)).toEqual([]);
}

/**
 * Each originator's GetEvents returns versions 1..n with no hole, n being the number of its acknowledged events;
 * version k is exactly the acknowledged event of version k (event_id, type, payload byte for byte); and log ids
 * grow with versions.
 */
export async function expectHistoriesMatchAcked(
  client: EventStoreClient,
  acked: ReadonlyMap<string, AckedEvent>,
): Promise<void> {
  const byOriginator = new Map<string, AckedEvent[]>();
  for (const event of acked.values()) {
    const list = byOriginator.get(event.originatorId) ?? [];
    list.push(event);
    byOriginator.set(event.originatorId, list);
  }
  for (const [originatorId, events] of byOriginator) {
    events.sort((a, b) => (a.version < b.version ? -1 : a.version > b.version ? 1 : 0));
    const stored = await client.readEvents(originatorId);
    const versions = stored.map((e) => e.originator?.version);
    expect(versions, `versions of ${originatorId}`).toEqual(events.map((_, i) => BigInt(i + 1)));
    expect(
      stored.map((e) => ({ eventId: e.eventId, eventType: e.eventType, payload: e.payload })),
      `history of ${originatorId}`,
    ).toEqual(events.map((e) => ({ eventId: e.eventId, eventType: e.eventType, payload: e.payload })));
    // A consumer replaying the log must meet an originator's events in version order.
    const outOfOrder = events.filter((e, i) => i > 0 && e.logId <= events[i - 1]!.logId).map((e) => e.version);
    expect(outOfOrder, `versions of ${originatorId} whose log id is not above the previous version's`).toEqual([]);
  }
}

function bigintText(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? `${value}n` : value;
}
