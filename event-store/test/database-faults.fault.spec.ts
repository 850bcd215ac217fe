import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { Code, type NewEvent } from "@eskit/client";
import { clientsFor, protocols, spawnEventStore, type Protocol, type SpawnedEventStore } from "./harness.js";
import { proxiedDatabase, type ProxiedDatabase } from "@eskit/test-kit/proxied-database.js";
import { serverDeadlineClient } from "@eskit/test-kit/server-deadline.js";
import {
  codeName,
  driverText,
  percentile,
  rpcLogLines,
  timedCall,
  type CallOutcome,
  type RpcLogLine,
} from "@eskit/test-kit/timed-call.js";

// The faults are made with a TCP proxy (and a lock) in front of PostgreSQL; PGlite runs inside the process.
const postgresUrl = process.env["DATABASE_URL"];
const skipReason = postgresUrl ? "" : " (skipped: needs PostgreSQL, set DATABASE_URL)";

/**
 * The deadline the calls carry, and how late past it an answer may come: the 50 ms, plus how slowly this
 * machine answers any call right now, the p99 latency of control calls sent alongside (refused by validation, no
 * database involved). Idle, the control adds a few ms; under parallel test runs on a shared machine it absorbs the
 * scheduling delays no server could avoid. Before the fix the answers came only when the client gave up (10 s).
 */
const deadlineMs = 2_000;
const overshootBoundMs = 50;
/** The client's own patience: far past the deadline, so what is measured is the server's answer. */
const patience = { timeoutMs: 10_000 };

const event = (originatorId: string, version = 1n): NewEvent => ({
  originatorId,
  version,
  eventType: "Account.Deposited",
  payload: '{"amount": 1}',
  eventId: randomUUID(),
});

describe.skipIf(!postgresUrl)(`the event store while PostgreSQL fails${skipReason}`, () => {
  let db: ProxiedDatabase | undefined;
  let store: SpawnedEventStore | undefined;
  const closers: Array<() => void> = [];

  const start = async (env: Record<string, string> = {}): Promise<SpawnedEventStore> => {
    db = await proxiedDatabase(postgresUrl!);
    // Every call's `rpc` line (calls that went well are debug lines): the tests time the server's answers with them.
    store = await spawnEventStore({ DATABASE_URL: db.proxiedUrl, LOG_LEVEL: "debug", ...env });
    return store;
  };
  const client = (protocol: Protocol, serverDeadlineMs = deadlineMs) => {
    const c = serverDeadlineClient(store!.url, protocol, serverDeadlineMs);
    closers.push(c.close);
    return c.eventStore;
  };

  afterEach(async () => {
    for (const close of closers.splice(0)) close();
    await db?.proxy.restore();
    store?.kill("SIGKILL");
    await store?.stop();
    await db?.remove();
    store = undefined;
    db = undefined;
  });

  it("answers Append, GetHead and GetEvents deadline_exceeded within 50 ms of their deadline while the database is black-holed, over every protocol, and serves within 1 s once it is back", async () => {
    await start();
    for (const protocol of protocols) await client(protocol).appendEvents([event(`warm-${protocol}`)], patience);

    db!.proxy.blackHole();
    const logged = rpcLogLines(store!.stdout()).length;
    const sent: NewEvent[] = [];
    const calls: Array<Promise<CallOutcome & { what: string }>> = [];
    const controls: Array<Promise<CallOutcome>> = [];
    // Sent 30 ms apart, so their deadlines pass one by one as in real traffic (54 at the same instant would measure
    // how long the server takes to write 54 answers at once).
    const spaced = () => new Promise((resolve) => setTimeout(resolve, 30));
    for (let i = 0; i < 6; i++) {
      for (const protocol of protocols) {
        const es = client(protocol);
        const e = event(`hole-${protocol}-${i}`);
        sent.push(e);
        const what = (m: string) => (o: CallOutcome) => ({ ...o, what: `${m} over ${protocol}` });
        calls.push(timedCall(() => es.appendEvents([e], patience)).then(what("Append")));
        await spaced();
        calls.push(timedCall(() => es.getHead({}, patience)).then(what("GetHead")));
        await spaced();
        calls.push(timedCall(() => es.readEvents(`warm-${protocol}`, {}, patience)).then(what("GetEvents")));
        await spaced();
        controls.push(timedCall(() => es.readEvents("", {}, patience)));
      }
    }
    const outcomes = await Promise.all(calls);
    for (const o of outcomes) {
      expect(codeName(o.code), `${o.what}: ${o.message}`).toBe(codeName(Code.DeadlineExceeded));
      expect(o.message, o.what).not.toMatch(driverText);
    }
    const lines = rpcLogLines(store!.stdout()).slice(logged);
    expectAnsweredByDeadline("black hole", outcomes, lines, await Promise.all(controls));

    await db!.proxy.restore();
    const restoredAt = performance.now();
    const writer = clientsFor(store!.url, "grpc");
    closers.push(writer.close);
    for (;;) {
      const o = await timedCall(() => writer.eventStore.appendEvents([event(`after-${randomUUID()}`)], patience));
      if (o.code === undefined) break;
      expect([Code.Unavailable, Code.DeadlineExceeded], `${codeName(o.code)}: ${o.message}`).toContain(o.code);
      expect(performance.now() - restoredAt, "no success 5 s after the database came back").toBeLessThan(5_000);
    }
    const recoveryMs = performance.now() - restoredAt;
    console.info(`black hole: first success ${recoveryMs.toFixed(0)} ms after restore`);
    expect(recoveryMs).toBeLessThan(1_000);
    // The bytes of those appends were lost in the hole: none is stored, and each retry (same event ids) stores it once.
    for (const e of sent) {
      expect(await writer.eventStore.readEvents(e.originatorId, {}, patience), e.originatorId).toEqual([]);
      await writer.eventStore.appendEvents([e], patience);
      const stored = await writer.eventStore.readEvents(e.originatorId, {}, patience);
      expect(stored.map((s) => s.eventId)).toEqual([e.eventId]);
    }
  }, 60_000);

  it("serves again after a black hole whose connections never come back: a stuck batch gives its turn to the next", async () => {
    // No fallback poll of the log tail, so that the appends below, not the tail, take the pool's idle connections.
    await start({ ESKIT_POLL_FALLBACK_MS: "60000" });
    const writer = client("grpc", 1_000);
    // Two appends at once leave two idle connections in the pool (one per batch in flight).
    for (let i = 0; i < 3; i++) {
      await Promise.all([0, 1].map((k) => writer.appendEvents([event(`warm-${i}-${k}`)], patience)));
    }

    db!.proxy.blackHole();
    // Their statements go out on those connections and are never answered, nor are their cancel requests.
    const lost = await Promise.all(
      [0, 1].map((i) => timedCall(() => writer.appendEvents([event(`lost-${i}`)], patience))),
    );
    for (const o of lost) expect(codeName(o.code), o.message).toBe(codeName(Code.DeadlineExceeded));
    // New connections pass again; the old ones stay open and silent for good.
    await db!.proxy.restore({ reset: false });
    const restoredAt = performance.now();
    for (;;) {
      const o = await timedCall(() => writer.appendEvents([event(`after-${randomUUID()}`)], patience));
      if (o.code === undefined) break;
      expect([Code.Unavailable, Code.DeadlineExceeded], `${codeName(o.code)}: ${o.message}`).toContain(o.code);
      expect(performance.now() - restoredAt, "no success 10 s after the network came back").toBeLessThan(10_000);
    }
    const recoveryMs = performance.now() - restoredAt;
    console.info(`dead paths: first success ${recoveryMs.toFixed(0)} ms after restore`);
    expect(recoveryMs).toBeLessThan(2_000);
  }, 60_000);

  it("cancels appends stalled inside PostgreSQL at their deadline: deadline_exceeded within 50 ms, nothing stored, a retry stores them once", async () => {
    await start();
    const writers = protocols.map((protocol) => client(protocol));
    for (const w of writers) await w.getHead({}, patience);

    const { released } = await db!.stallAppends(deadlineMs + 2_000);
    const sent = writers.flatMap((w, p) => [0, 1, 2].map((i) => ({ w, e: event(`stall-${p}-${i}`) })));
    const logged = rpcLogLines(store!.stdout()).length;
    const pending = sent.map(({ w, e }) => timedCall(() => w.appendEvents([e], patience)));
    const controls: CallOutcome[] = [];
    for (let i = 0; i < 30; i++) {
      controls.push(await timedCall(() => writers[i % writers.length]!.readEvents("", {}, patience)));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const outcomes = await Promise.all(pending);
    for (const o of outcomes) expect(codeName(o.code), o.message).toBe(codeName(Code.DeadlineExceeded));
    expectAnsweredByDeadline("stalled appends", outcomes, rpcLogLines(store!.stdout()).slice(logged), controls);

    // Once the lock is gone, a statement that was not cancelled would commit: none may have.
    await released;
    await new Promise((resolve) => setTimeout(resolve, 500));
    const reader = client("grpc", 10_000);
    for (const { e } of sent) expect(await reader.readEvents(e.originatorId, {}, patience), e.originatorId).toEqual([]);
    for (const { w, e } of sent) await w.appendEvents([e], patience);
    for (const { w, e } of sent) await w.appendEvents([e], patience);
    for (const { e } of sent) {
      expect((await reader.readEvents(e.originatorId, {}, patience)).map((s) => s.eventId)).toEqual([e.eventId]);
    }
  }, 60_000);

  it("fails fast with unavailable during a 5 s outage under load, says nothing of the driver, and serves within 1 s of the database's return", async () => {
    await start();
    const callDeadlineMs = 1_000;
    const writers = protocols.map((protocol) => client(protocol, callDeadlineMs));
    for (const w of writers) await w.getHead({}, patience);
    const log: Array<CallOutcome & { startedAt: number; endedAt: number }> = [];
    let stop = false;
    const worker = async (w: (typeof writers)[number], n: number): Promise<void> => {
      for (let i = 0; !stop; i++) {
        const startedAt = performance.now();
        const o = await timedCall(() => w.appendEvents([event(`load-${n}-${i}`)], patience));
        log.push({ ...o, startedAt, endedAt: performance.now() });
        // A client that retries at once would spin on fast failures: pause a little, as real clients back off.
        if (o.code !== undefined) await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    const load = writers.flatMap((w, p) => [0, 1].map((k) => worker(w, p * 2 + k)));
    const controls: CallOutcome[] = [];
    const control = (async () => {
      for (let i = 0; !stop; i++) {
        controls.push(await timedCall(() => writers[i % writers.length]!.readEvents("", {}, patience)));
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 1_000));

    const cutAt = performance.now();
    await db!.proxy.cut();
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    await db!.proxy.restore();
    const restoredAt = performance.now();
    while (!log.some((o) => o.code === undefined && o.startedAt >= restoredAt)) {
      expect(performance.now() - restoredAt, "no success 15 s after the database came back").toBeLessThan(15_000);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    stop = true;
    await Promise.all([...load, control]);

    const firstSuccess = Math.min(
      ...log.filter((o) => o.code === undefined && o.startedAt >= restoredAt).map((o) => o.endedAt),
    );
    const during = log.filter((o) => o.startedAt >= cutAt + 100 && o.endedAt <= restoredAt);
    const failures = log.filter((o) => o.code !== undefined);
    console.info(
      `reset outage: ${during.length} calls during it, slowest ${Math.max(...during.map((o) => o.ms)).toFixed(0)} ms;` +
        ` first success ${(firstSuccess - restoredAt).toFixed(0)} ms after restore; control calls p99` +
        ` ${percentile(
          controls.map((c) => c.ms),
          99,
        ).toFixed(1)} ms`,
    );
    expect(during.length).toBeGreaterThan(10);
    for (const o of during) {
      expect([Code.Unavailable, Code.DeadlineExceeded], `${codeName(o.code)}: ${o.message}`).toContain(o.code);
    }
    const lateness = percentile(
      controls.map((c) => c.ms),
      99,
    );
    for (const o of log) {
      expect(o.ms, "an answer past its deadline").toBeLessThan(callDeadlineMs + overshootBoundMs + lateness);
    }
    for (const o of failures) expect(o.message).not.toMatch(driverText);
    // What the clients are not told is in the log, for the operator.
    const logged = rpcLogLines(store!.stdout()).filter((l) => l.code === "unavailable");
    expect(logged.length).toBeGreaterThan(0);
    expect(
      logged.some((l) => /ECONN/u.test(l.error ?? "")),
      "the driver's error in an rpc log line",
    ).toBe(true);
    expect(firstSuccess - restoredAt, "time from restore to first success, ms").toBeLessThan(1_000);
  }, 60_000);
});

/**
 * Every call was answered deadline_exceeded within {@link overshootBoundMs} of its deadline plus the p99 latency of
 * the `controls` (p99, as the client saw it, and as the server measured it in its `rpc` log lines). Reports both.
 */
function expectAnsweredByDeadline(
  what: string,
  outcomes: readonly CallOutcome[],
  lines: readonly RpcLogLine[],
  controls: readonly CallOutcome[],
): void {
  const server = lines.filter((l) => l.code === "deadline_exceeded").map((l) => l.duration_ms - deadlineMs);
  const client = outcomes.map((o) => o.ms - deadlineMs);
  for (const c of controls) expect(codeName(c.code), "a control call").toBe(codeName(Code.InvalidArgument));
  const control = percentile(
    controls.map((c) => c.ms),
    99,
  );
  console.info(
    `${what}: ${outcomes.length} calls; deadline overshoot p50 ${percentile(client, 50).toFixed(1)} ms,` +
      ` p99 ${percentile(client, 99).toFixed(1)} ms (as the server measured it: p50 ${percentile(server, 50).toFixed(1)} ms,` +
      ` p99 ${percentile(server, 99).toFixed(1)} ms); control calls p99 ${control.toFixed(1)} ms`,
  );
  expect(server.length, "rpc log lines of deadline_exceeded calls").toBe(outcomes.length);
  expect(percentile(client, 99), "deadline overshoot p99, ms").toBeLessThan(overshootBoundMs + control);
  expect(percentile(server, 99), "deadline overshoot p99 (server), ms").toBeLessThan(overshootBoundMs + control);
}
