/**
 * Reconciles what append writers sent (see `crash-writers.ts`) with what the Event Store holds: its whole log, read
 * page by page, and each originator's history. Every broken rule becomes one line of `problems`, so a failing test
 * shows all of them at once, and the figures say how the unacknowledged requests ended.
 */
import type { AppLogEntry, EventStoreClient } from "@eskit/client";
import type { SentAppend } from "@eskit/test-kit/crash-writers.js";

/** The outcome of {@link reconcileAppends}. */
export interface Reconciliation {
  /** One line per broken rule; empty when everything holds. */
  readonly problems: string[];
  /** Unacknowledged requests the store holds wholly, with the log ids of their events. */
  readonly unackedStored: Map<SentAppend, bigint[]>;
  /** Unacknowledged requests of which the store holds nothing. */
  readonly unackedAbsent: SentAppend[];
  /** The log as read, in id order. */
  readonly log: AppLogEntry[];
}

/** Every entry of the log, page by page (1000 at a time). */
export async function readWholeLog(client: EventStoreClient): Promise<AppLogEntry[]> {
  const entries: AppLogEntry[] = [];
  for await (const page of client.pageLogs({ size: 1000, callOptions: { timeoutMs: 30_000 } })) {
    entries.push(...page.entries);
  }
  return entries;
}

/**
 * Checks, against the store's log and histories:
 * - the log: ids strictly increasing, each event_id once, each from a request that was sent;
 * - acknowledged requests: every event stored under the log id its answer gave, with the content sent;
 * - refused requests: nothing stored; unacknowledged ones: all their events or none, as sent, in request order;
 * - each originator: versions 1..n with no hole, each version the event the log holds for it, exactly one log entry
 *   per event, log ids growing with versions.
 */
export async function reconcileAppends(client: EventStoreClient, sent: readonly SentAppend[]): Promise<Reconciliation> {
  const problems: string[] = [];
  const log = await readWholeLog(client);
  const byEventId = new Map<string, AppLogEntry>();
  for (const [i, entry] of log.entries()) {
    if (i > 0 && entry.id <= log[i - 1]!.id) problems.push(`log id ${entry.id} comes after ${log[i - 1]!.id}`);
    const eventId = entry.event?.eventId ?? "";
    if (byEventId.has(eventId))
      problems.push(`event ${eventId} has log entries ${byEventId.get(eventId)!.id} and ${entry.id}`);
    byEventId.set(eventId, entry);
  }
  const sentIds = new Set(sent.flatMap((r) => r.events.map((e) => e.eventId)));
  for (const entry of log) {
    if (!sentIds.has(entry.event?.eventId ?? "")) problems.push(`log entry ${entry.id} is an event nobody sent`);
  }

  const unackedStored = new Map<SentAppend, bigint[]>();
  const unackedAbsent: SentAppend[] = [];
  for (const request of sent) {
    const label = `request of writer ${request.writer} (${request.protocol}, epoch ${request.epoch})`;
    const stored = request.events.map((e) => byEventId.get(e.eventId));
    const found = stored.filter((entry) => entry !== undefined);
    for (const [i, event] of request.events.entries()) {
      const entry = stored[i];
      if (entry === undefined) continue;
      const got = entry.event!;
      if (
        got.originator?.id !== event.originatorId ||
        got.originator?.version !== event.version ||
        got.eventType !== event.eventType ||
        got.payload !== event.payload
      ) {
        problems.push(`${label}: event ${event.eventId} is stored with other content`);
      }
      if (i > 0 && stored[i - 1] !== undefined && entry.id <= stored[i - 1]!.id) {
        problems.push(`${label}: events ${i - 1} and ${i} are in the log out of request order`);
      }
    }
    const outcome = request.outcome;
    if (outcome === undefined) {
      problems.push(`${label} never got an outcome`);
    } else if (outcome.kind === "acked") {
      const ids = stored.map((entry) => entry?.id);
      if (ids.some((id, i) => id !== outcome.logIds[i])) {
        problems.push(`${label}: acknowledged with log ids ${outcome.logIds.join(",")}, stored as ${ids.join(",")}`);
      }
    } else if (outcome.kind === "refused") {
      if (found.length > 0) problems.push(`${label}: refused with code ${outcome.code}, yet ${found.length} stored`);
    } else if (found.length === request.events.length) {
      unackedStored.set(
        request,
        found.map((entry) => entry.id),
      );
    } else if (found.length === 0) {
      unackedAbsent.push(request);
    } else {
      problems.push(`${label}: unacknowledged, and ${found.length} of its ${request.events.length} events stored`);
    }
  }

  problems.push(...(await checkHistories(client, log)));
  return { problems, unackedStored, unackedAbsent, log };
}

/** Each originator of the log: GetEvents returns exactly its log entries' events, versions 1..n in log order. */
async function checkHistories(client: EventStoreClient, log: readonly AppLogEntry[]): Promise<string[]> {
  const problems: string[] = [];
  const byOriginator = new Map<string, AppLogEntry[]>();
  for (const entry of log) {
    const id = entry.event?.originator?.id ?? "";
    const list = byOriginator.get(id) ?? [];
    list.push(entry);
    byOriginator.set(id, list);
  }
  const originators = [...byOriginator.keys()];
  // BatchGetEvents takes up to 1000 ranges a call.
  for (let start = 0; start < originators.length; start += 1000) {
    const ids = originators.slice(start, start + 1000);
    const { results } = await client.batchGetEvents(
      { ranges: ids.map((originatorId) => ({ originatorId, fromVersion: 0n, toVersion: 0n })) },
      { timeoutMs: 30_000 },
    );
    for (const [i, originatorId] of ids.entries()) {
      const history = results[i]?.events ?? [];
      const versions = history.map((e) => e.originator?.version);
      if (versions.some((v, k) => v !== BigInt(k + 1))) {
        problems.push(`${originatorId}: versions ${versions.join(",")} are not 1..${versions.length}`);
      }
      // The log holds an originator's events in version order, one entry each.
      const fromLog = byOriginator.get(originatorId)!.map((e) => `${e.event?.originator?.version}:${e.event?.eventId}`);
      const fromHistory = history.map((e) => `${e.originator?.version}:${e.eventId}`);
      if (fromLog.join(" ") !== fromHistory.join(" ")) {
        problems.push(`${originatorId}: GetEvents has ${fromHistory.length} events, the log ${fromLog.length} entries`);
      }
    }
  }
  return problems;
}
