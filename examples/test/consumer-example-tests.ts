/**
 * What every consumer example (Python, Go) must do against the real services, whatever its language: deliver exactly
 * what the TypeScript helper `createLogConsumer` delivers, survive a restart of the Event Store, resume from its
 * saved offset without skipping, and stop on errors that retrying cannot fix. Each language's spec file builds its
 * example and calls {@link consumerExampleTests} inside its own `describe`.
 */
import { toJson } from "@bufbuild/protobuf";
import {
  AppLogEntrySchema,
  createConsumerClient,
  createEventStoreClient,
  type AppLogEntry,
  type EventStoreClient,
} from "@eskit/client";
import { createNodeTransport } from "@eskit/client/node.js";
import { spawnEventStore } from "@eskit/test-kit/event-store.js";
import { startTcpProxy } from "@eskit/test-kit/tcp-proxy.js";
import { afterEach, expect, it } from "vitest";
import { startReference, startTimeoutMs, useExampleEventStore } from "./example-event-store.js";
import { killAllExamples, runExample, type Ending, type ExampleLauncher, type Json } from "./example-process.js";
import { readLog, seededRandom, startWriter, Workload } from "./example-workload.js";

const seed = Number(process.env["ESKIT_TEST_SEED"] ?? Date.now() % 100_000);
const context = `seed ${seed} (set ESKIT_TEST_SEED to repeat)`;
const cleanExit: Ending = { code: 0, signal: null };

/** An entry as the protobuf JSON mapping writes it: what the examples print. */
const asJson = (entry: AppLogEntry) => toJson(AppLogEntrySchema, entry) as Json;
const idsOf = (entries: readonly AppLogEntry[]) => entries.map((e) => e.id);

/** The `code` of the example's "stopped by an error" record, lower-cased (Python says UNAUTHENTICATED, Go Unauthenticated). */
function errorCode(logs: readonly Json[]): string | undefined {
  for (const record of logs) {
    if (typeof record === "object" && record !== null && !Array.isArray(record) && record["level"] === "error") {
      return String(record["code"]).toLowerCase().replaceAll("_", "");
    }
  }
  return undefined;
}

/** The log id the example said it starts after ("started" record). */
function startedAfter(logs: readonly Json[]): bigint | undefined {
  for (const record of logs) {
    if (typeof record === "object" && record !== null && !Array.isArray(record) && record["msg"] === "started") {
      return BigInt(String(record["after"]));
    }
  }
  return undefined;
}

const reconnections = (logs: readonly Json[]) =>
  logs.filter((r) => typeof r === "object" && r !== null && !Array.isArray(r) && r["msg"] === "reconnecting").length;

async function waitUntil(what: string, done: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function exitedWithin(exited: Promise<Ending>, ms: number): Promise<Ending | "still running"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"still running">((resolve) => (timer = setTimeout(() => resolve("still running"), ms)));
  try {
    return await Promise.race([exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Registers the tests of one example; `launch` maps the tests' options to its command line. */
export function consumerExampleTests(launch: ExampleLauncher): void {
  const store = useExampleEventStore();
  const random = seededRandom(seed);
  afterEach(killAllExamples);

  it("prints exactly the entries createLogConsumer hands over for the same selector, in the same order, and a clean stop resumes right after them", async () => {
    const workload = new Workload(store.client, ["ExactOrder", "ExactInvoice", "ExactUser"], random);
    const selector = "ExactOrder.*";
    await workload.append(200);
    const reference = startReference(store.url, "ts-exact", selector);
    const target = store.target;
    const oneByOne = runExample(launch({ target, consumerId: "example-exact", selector }));
    const batches = runExample(launch({ target, consumerId: "example-exact-batches", selector, batches: true }));
    // Catch-up of the first 200, then live delivery of the next 100 appended while the consumers run.
    for (let i = 0; i < 10; i++) {
      await workload.append(10);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const log = await readLog(store.client, selector);
    expect(idsOf(log), `the log holds what was appended, ${context}`).toEqual(workload.acked.get("ExactOrder"));
    expect(log.length).toBeGreaterThan(50);
    const last = log.at(-1)!.id;
    await reference.waitForId(last);
    for (const run of [oneByOne, batches]) {
      await run.waitFor(`log id ${last}`, () => (run.ids().at(-1) ?? 0n) >= last);
      expect(await run.stop(), run.stderr()).toEqual(cleanExit);
    }
    const summary = await reference.stop();
    expect(reference.entries.map(asJson), context).toEqual(log.map(asJson));
    expect(oneByOne.entries, `one entry per handler call, ${context}`).toEqual(reference.entries.map(asJson));
    expect(batches.entries, `one LogsPoll message per handler call, ${context}`).toEqual(reference.entries.map(asJson));
    // Offset = the id of the last entry handled, for the helper and the examples alike.
    expect(summary.offset).toBe(last);
    expect(await store.offsetOf("example-exact")).toBe(last);
    expect(await store.offsetOf("example-exact-batches")).toBe(last);

    // Started again, both resume after their saved offset: the new entries, none before them.
    await workload.append(60);
    const later = await readLog(store.client, selector, last + 1n);
    expect(later.length).toBeGreaterThan(0);
    const reference2 = startReference(store.url, "ts-exact", selector);
    const resumed = runExample(launch({ target, consumerId: "example-exact", selector }));
    await reference2.waitForId(later.at(-1)!.id);
    await resumed.waitFor(`log id ${later.at(-1)!.id}`, () => (resumed.ids().at(-1) ?? 0n) >= later.at(-1)!.id);
    expect(await resumed.stop(), resumed.stderr()).toEqual(cleanExit);
    await reference2.stop();
    expect(reference2.entries.map(asJson)).toEqual(later.map(asJson));
    expect(resumed.entries, context).toEqual(reference2.entries.map(asJson));
    expect(startedAfter(oneByOne.logs()), "a consumer that never saved starts from the beginning").toBe(0n);
    expect(startedAfter(resumed.logs()), "and then after its saved offset").toBe(last);
  }, 120_000);

  it("survives a restart of the Event Store while appends continue: it reconnects and prints every entry once, in order", async () => {
    const workload = new Workload(store.client, ["RestartOrder", "RestartInvoice", "RestartUser"], random);
    const selector = "RestartOrder.*";
    await workload.append(100);
    const run = runExample(launch({ target: store.target, consumerId: "example-restart", selector }));
    await run.waitFor("the first entries", () => run.entries.length >= 10);
    const writer = startWriter(workload, random);
    try {
      await writer.waitForMore(100);
      const beforeRestart = run.entries.length;
      expect(await store.restart(), "the Event Store stopped cleanly").toBe(0);
      // Appends continue on the new process, and so must the consumer, within its backoff (at most 500 ms here),
      // not after grpc's own (up to 120 s) or its name resolution's cool-down (30 s).
      const selectedBefore = workload.acked.get("RestartOrder")!.length;
      await waitUntil(
        "a selected append on the new process",
        () => workload.acked.get("RestartOrder")!.length > selectedBefore,
      );
      const firstNew = workload.acked.get("RestartOrder")!.at(-1)!;
      await run.waitFor(
        `log id ${firstNew}, appended after the restart`,
        () => (run.ids().at(-1) ?? 0n) >= firstNew,
        10_000,
      );
      await writer.waitForMore(150);
      await writer.stop();
      const log = await readLog(store.client, selector);
      const last = log.at(-1)!.id;
      await run.waitFor(`log id ${last} after the restart`, () => (run.ids().at(-1) ?? 0n) >= last);
      expect(await run.stop(), run.stderr()).toEqual(cleanExit);
      // Every entry exactly once: reconnecting at the last handled id + 1 neither skips nor repeats.
      expect(run.ids(), context).toEqual(idsOf(log));
      expect(run.entries, context).toEqual(log.map(asJson));
      expect(beforeRestart, "entries printed before the restart").toBeGreaterThan(0);
      expect(run.entries.length - beforeRestart, "entries printed after the restart").toBeGreaterThan(0);
      expect(reconnections(run.logs()), `the restart was felt:\n${run.stderr()}`).toBeGreaterThan(0);
      expect(await store.offsetOf("example-restart")).toBe(last);
    } finally {
      await writer.stop().catch(() => {});
    }
  }, 180_000);

  it("reconnects from its last entry when its connection goes silent without a reset: heartbeats tell a quiet log from a dead one", async () => {
    const proxy = await startTcpProxy({ host: "127.0.0.1", port: store.port });
    try {
      const workload = new Workload(store.client, ["QuietDoor"], random);
      const selector = "QuietDoor.*";
      await workload.append(3);
      const run = runExample(
        launch({
          target: `127.0.0.1:${proxy.port}`,
          consumerId: "example-quiet",
          selector,
          heartbeatTimeoutMs: 1000,
          // Longer than the heartbeat timeout, so that the heartbeat watchdog is what notices the silence first.
          keepaliveTimeMs: 3000,
          keepaliveTimeoutMs: 500,
        }),
      );
      const first = workload.acked.get("QuietDoor")!.at(-1)!;
      await run.waitFor(`log id ${first}`, () => (run.ids().at(-1) ?? 0n) >= first);
      // The store's heartbeats (every 200 ms) keep a quiet but live stream open: no reconnection.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(reconnections(run.logs()), run.stderr()).toBe(0);
      // Now its connection passes nothing either way and stays open; new connections through the proxy work.
      proxy.silenceOpenConnections();
      await workload.append(2);
      const log = await readLog(store.client, selector);
      await run.waitFor("the entries appended after the silence", () => (run.ids().at(-1) ?? 0n) >= log.at(-1)!.id);
      expect(await run.stop(), run.stderr()).toEqual(cleanExit);
      expect(run.ids(), "each entry once, in order").toEqual(idsOf(log));
      const firstReconnection = run.logs().find((r) => JSON.stringify(r).includes("reconnecting"));
      expect(JSON.stringify(firstReconnection)).toMatch(/no message for 1 ?s/);
    } finally {
      await proxy.close();
    }
  }, 120_000);

  it("killed with SIGKILL and started again, it resumes at its saved offset + 1: entries after it come again, none is skipped", async () => {
    const workload = new Workload(store.client, ["KillOrder", "KillInvoice"], random);
    const selector = "KillOrder.*";
    await workload.append(40);
    const writer = startWriter(workload, random);
    const options = { target: store.target, consumerId: "example-kill", selector, saveEveryEntries: 10 };
    try {
      const first = runExample(launch({ ...options, saveIntervalMs: 100 }));
      await first.waitFor("60 entries, live", () => first.entries.length >= 60);
      for (let i = 0; (await store.offsetOf("example-kill")) === undefined; i++) {
        if (i > 100) throw new Error("the example saved no offset in 2 s");
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      first.kill("SIGKILL");
      expect(await first.exited).toEqual({ code: null, signal: "SIGKILL" });
      const savedAtKill = (await store.offsetOf("example-kill"))!;
      const printed = first.ids();
      // Saved only after the handler succeeded: an offset the example printed, never one ahead of it.
      expect(printed, `saved offset ${savedAtKill}`).toContain(savedAtKill);

      const second = runExample(launch(options));
      await second.waitFor("its start position", () => startedAfter(second.logs()) !== undefined);
      // A save the killed process had sent may still commit after its death: where the second run resumed is the
      // offset saved when it started, never older than the one read above, and again one the first run printed.
      const saved = startedAfter(second.logs())!;
      expect(saved).toBeGreaterThanOrEqual(savedAtKill);
      expect(printed, `resumed after ${saved}`).toContain(saved);
      await writer.waitForMore(60);
      await writer.stop();
      const log = await readLog(store.client, selector);
      const last = log.at(-1)!.id;
      await second.waitFor(`log id ${last}`, () => (second.ids().at(-1) ?? 0n) >= last);
      expect(await second.stop(), second.stderr()).toEqual(cleanExit);
      expect(printed, `the first run printed a prefix of the log, ${context}`).toEqual(
        idsOf(log).slice(0, printed.length),
      );
      expect(second.ids(), `the second run starts right after offset ${saved}, ${context}`).toEqual(
        idsOf(log.filter((e) => e.id > saved)),
      );
      expect(second.entries).toEqual(log.filter((e) => e.id > saved).map(asJson));
      expect(await store.offsetOf("example-kill")).toBe(last);
    } finally {
      await writer.stop().catch(() => {});
    }
  }, 120_000);

  it("with access control, consumes with a full token and stops with the error when a call can never succeed", async () => {
    const full = "examples-full-token-0123456789";
    const read = "examples-read-token-0123456789";
    const secured = await spawnEventStore({ ESKIT_AUTH_TOKENS: full, ESKIT_READ_TOKENS: read }, startTimeoutMs);
    const transport = createNodeTransport({ baseUrl: secured.url, protocol: "grpc", token: full });
    try {
      const client: EventStoreClient = createEventStoreClient(transport);
      const workload = new Workload(client, ["AuthOrder", "AuthUser"], random);
      await workload.append(40);
      const selector = "AuthOrder.*";
      const log = await readLog(client, selector);
      const target = new URL(secured.url).host;

      const withToken = runExample(launch({ target, consumerId: "example-auth", selector, token: full }));
      await withToken.waitFor("every entry", () => (withToken.ids().at(-1) ?? 0n) >= log.at(-1)!.id);
      expect(await withToken.stop(), withToken.stderr()).toEqual(cleanExit);
      expect(withToken.entries).toEqual(log.map(asJson));

      // No token, a read token (SaveOffset is a write), a selector the store rejects: retrying cannot help.
      const cases = [
        { name: "no token", options: { consumerId: "example-no-token", selector }, code: "unauthenticated" },
        {
          name: "a read token",
          options: { consumerId: "example-read-token", selector, token: read, saveIntervalMs: 0 },
          code: "permissiondenied",
        },
        {
          name: "a bad selector",
          options: { consumerId: "example-bad", selector: "a b", token: full },
          code: "invalidargument",
        },
      ];
      for (const c of cases) {
        const run = runExample(launch({ target, ...c.options }));
        expect(await exitedWithin(run.exited, 20_000), `${c.name}:\n${run.stderr()}`).toEqual({
          code: 1,
          signal: null,
        });
        expect(errorCode(run.logs()), `${c.name}:\n${run.stderr()}`).toBe(c.code);
      }
      // The read token's run saved nothing; the full token's run saved its last entry.
      const consumers = createConsumerClient(transport);
      expect(await consumers.getOffset("example-read-token")).toBeUndefined();
      expect((await consumers.getOffset("example-auth"))?.offset).toBe(log.at(-1)!.id);
    } finally {
      transport.close();
      await secured.stop();
    }
  }, 120_000);
}
