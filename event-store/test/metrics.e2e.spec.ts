import { randomUUID } from "node:crypto";
import { Code } from "@connectrpc/connect";
import { sampleValue } from "@eskit/test-kit/exposition.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Clients, type TestEventStore, clientsFor, startTestEventStore } from "./harness.js";
import { expectPromtoolClean, scrape, scrapeUntil } from "@eskit/test-kit/metrics.js";
import { rejection } from "@eskit/test-kit/rejection.js";
import { itWithTools, promtool } from "@eskit/test-kit/system-tools.js";

// GET /metrics of a real Event Store after known traffic: every figure is checked for its exact value. The tests
// share one store and run in order, each adding to what the previous ones did.

let store: TestEventStore;
let grpc: Clients;
let json: Clients;
beforeAll(async () => {
  store = await startTestEventStore();
  grpc = clientsFor(store.url, "grpc");
  json = clientsFor(store.url, "connect");
});
afterAll(async () => {
  grpc.close();
  json.close();
  await store.stop();
});

const eventStore = "eskit.eventstore.v1.EventStoreService";
const unique = (prefix: string) => `${prefix}${randomUUID().replaceAll("-", "").slice(0, 12)}`;
const events = (id: string, count: number, firstVersion = 1) =>
  Array.from({ length: count }, (_, i) => ({
    originator: { id, version: BigInt(firstVersion + i) },
    eventType: "User.Changed",
    payload: "{}",
  }));

describe("GET /metrics of the Event Store", () => {
  it("serves the Prometheus text format", async () => {
    const { status, contentType, samples } = await scrape(store.url);
    expect(status).toBe(200);
    expect(contentType).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(sampleValue(samples, "eskit_log_head_id")).toBe(0);
    expect(sampleValue(samples, "eskit_append_batch_events_count")).toBe(0);
  });

  it("counts RPCs by service, method and code, and each commit's events and requests", async () => {
    // Sequential appends: each is a group commit of its own. 1 + 3 + 2 + 1 + 4 = 11 events.
    const sizes = [1, 3, 2, 1, 4];
    const ids = sizes.map(() => unique("u"));
    for (const [i, size] of sizes.entries()) await grpc.eventStore.append({ events: events(ids[i]!, size) });
    // An idempotent retry answers ok but writes nothing; a stale version is refused.
    const eventId = randomUUID();
    const retried = { events: [{ ...events(unique("u"), 1)[0]!, eventId }] };
    await json.eventStore.append(retried);
    await json.eventStore.append(retried);
    expect((await rejection(grpc.eventStore.append({ events: events(ids[0]!, 1) }))).code).toBe(Code.Aborted);
    await grpc.eventStore.getEvents({ originatorId: ids[1]! });
    await json.eventStore.getEvents({ originatorId: ids[2]! });
    expect((await rejection(grpc.consumers.getOffset({ consumerId: unique("c") }))).code).toBe(Code.NotFound);
    const { headId } = await grpc.eventStore.getHead({});

    const { samples } = await scrape(store.url);
    const rpc = (service: string, method: string, code: string) =>
      sampleValue(samples, "eskit_rpc_requests_total", { service, method, code });
    expect(rpc(eventStore, "Append", "ok")).toBe(7);
    expect(rpc(eventStore, "Append", "aborted")).toBe(1);
    expect(rpc(eventStore, "GetEvents", "ok")).toBe(2);
    expect(rpc(eventStore, "GetHead", "ok")).toBe(1);
    expect(rpc("eskit.eventstore.v1.ConsumerService", "GetOffset", "not_found")).toBe(1);
    expect(samples.filter((s) => s.name === "eskit_rpc_requests_total")).toHaveLength(5);
    const append = { service: eventStore, method: "Append" };
    expect(sampleValue(samples, "eskit_rpc_duration_seconds_count", append)).toBe(8);
    expect(sampleValue(samples, "eskit_rpc_duration_seconds_bucket", { ...append, le: "+Inf" })).toBe(8);
    expect(sampleValue(samples, "eskit_rpc_duration_seconds_bucket", { ...append, le: "10" })).toBe(8);

    expect(headId).toBe(12n);
    expect(sampleValue(samples, "eskit_log_head_id")).toBe(Number(headId));
    // Six commits wrote 12 events (the retry wrote nothing), one request each.
    expect(sampleValue(samples, "eskit_append_batch_events_sum")).toBe(12);
    expect(sampleValue(samples, "eskit_append_batch_events_count")).toBe(6);
    expect(sampleValue(samples, "eskit_append_batch_events_bucket", { le: "1" })).toBe(3);
    expect(sampleValue(samples, "eskit_append_batch_events_bucket", { le: "2" })).toBe(4);
    expect(sampleValue(samples, "eskit_append_batch_events_bucket", { le: "5" })).toBe(6);
    expect(sampleValue(samples, "eskit_append_batch_requests_sum")).toBe(6);
    expect(sampleValue(samples, "eskit_append_batch_requests_count")).toBe(6);
  });

  it("shows concurrent appends sharing commits: the events add up, the commits do not exceed the requests", async () => {
    const before = (await scrape(store.url)).samples;
    await Promise.all(Array.from({ length: 20 }, () => grpc.eventStore.append({ events: events(unique("u"), 2) })));
    const after = (await scrape(store.url)).samples;
    const delta = (name: string) => sampleValue(after, name)! - sampleValue(before, name)!;
    expect(delta("eskit_append_batch_events_sum")).toBe(40);
    expect(delta("eskit_append_batch_requests_sum")).toBe(20);
    expect(delta("eskit_append_batch_events_count")).toBeGreaterThanOrEqual(1);
    expect(delta("eskit_append_batch_events_count")).toBeLessThanOrEqual(20);
    expect(sampleValue(after, "eskit_log_head_id")).toBe(Number((await grpc.eventStore.getHead({})).headId));
  });

  it("counts open LogsPoll streams while they run, and each as canceled when its client cancels", async () => {
    const logsPoll = { service: eventStore, method: "LogsPoll" };
    const open = (samples: Parameters<typeof sampleValue>[0]) =>
      sampleValue(samples, "eskit_rpc_streams_open", logsPoll);
    const aborts = [new AbortController(), new AbortController()];
    const streams = aborts.map((abort, i) =>
      (i === 0 ? grpc : json).eventStore.logsPoll({ fromId: 1n }, { signal: abort.signal })[Symbol.asyncIterator](),
    );
    for (const stream of streams) expect((await stream.next()).value?.entries[0]?.id).toBe(1n);
    const running = await scrapeUntil(store.url, (s) => open(s) === 2);
    expect(open(running.samples)).toBe(2);
    expect(sampleValue(running.samples, "eskit_rpc_requests_total", { ...logsPoll, code: "canceled" })).toBeUndefined();

    aborts[0]!.abort();
    await expect(streams[0]!.next()).rejects.toMatchObject({ code: Code.Canceled });
    const one = await scrapeUntil(store.url, (s) => open(s) === 1);
    expect(open(one.samples)).toBe(1);
    expect(sampleValue(one.samples, "eskit_rpc_requests_total", { ...logsPoll, code: "canceled" })).toBe(1);

    aborts[1]!.abort();
    await expect(streams[1]!.next()).rejects.toMatchObject({ code: Code.Canceled });
    const none = await scrapeUntil(store.url, (s) => open(s) === 0);
    expect(open(none.samples)).toBe(0);
    expect(sampleValue(none.samples, "eskit_rpc_requests_total", { ...logsPoll, code: "canceled" })).toBe(2);
    expect(sampleValue(none.samples, "eskit_rpc_duration_seconds_count", logsPoll)).toBe(2);
  });

  itWithTools([promtool], "passes promtool check metrics after all that traffic", async () => {
    const { body } = await scrape(store.url);
    expect(body).toContain("# TYPE eskit_rpc_duration_seconds histogram");
    expect(body).toContain("process_cpu_seconds_total");
    await expectPromtoolClean(body);
  });
});
