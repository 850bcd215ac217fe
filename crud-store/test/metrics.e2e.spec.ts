import { randomUUID } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { sampleValue } from "@eskit/test-kit/exposition.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectPromtoolClean, scrape } from "@eskit/test-kit/metrics.js";
import { startCrudStoreHarness, type CrudClient, type CrudStoreHarness } from "./harness.js";
import { itWithTools, promtool } from "@eskit/test-kit/system-tools.js";

// GET /metrics of a real Crud Store (on a real Event Store) after known traffic, checked for exact values. Only the
// Crud Store calls the Event Store here, so what it counted of its calls must match what the Event Store counted.

let harness: CrudStoreHarness;
let crud: CrudClient;
beforeAll(async () => {
  harness = await startCrudStoreHarness();
  crud = harness.clients("grpc").crud;
});
afterAll(async () => {
  await harness?.stop();
});

const service = "eskit.crudstore.v1.CrudStoreService";
const code = async (call: Promise<unknown>): Promise<Code | undefined> =>
  call.then(
    () => undefined,
    (error: unknown) => ConnectError.from(error).code,
  );

describe("GET /metrics of the Crud Store", () => {
  it("counts RPCs by method and code, and its calls to the Event Store as the Event Store counted them", async () => {
    const entityType = `acme.m${randomUUID().slice(0, 8)}.User`;
    const ids = [0, 1, 2].map(() => randomUUID());
    for (const id of ids) await crud.create({ entityType, originator: { id }, payload: JSON.stringify({ id }) });
    await crud.update({ entityType, originator: { id: ids[0]!, version: 1n }, payload: '{"v":2}' });
    expect(await code(crud.update({ entityType, originator: { id: ids[0]!, version: 1n }, payload: '{"v":3}' }))).toBe(
      Code.Aborted,
    );
    await crud.get({ entityType, originator: { id: ids[1]! } });
    await crud.get({ entityType, originator: { id: ids[0]!, version: 1n } });
    expect(await code(crud.get({ entityType, originator: { id: randomUUID() } }))).toBe(Code.NotFound);
    const overJson = harness.clients("connect");
    expect(await code(overJson.crud.create({ entityType, originator: { id: ids[1]! }, payload: "{}" }))).toBe(
      Code.AlreadyExists,
    );

    const crudScrape = await scrape(harness.url);
    expect(crudScrape.status).toBe(200);
    expect(crudScrape.contentType).toBe("text/plain; version=0.0.4; charset=utf-8");
    const samples = crudScrape.samples;
    const rpc = (method: string, code: string) =>
      sampleValue(samples, "eskit_rpc_requests_total", { service, method, code });
    expect(rpc("Create", "ok")).toBe(3);
    expect(rpc("Create", "already_exists")).toBe(1);
    expect(rpc("Update", "ok")).toBe(1);
    expect(rpc("Update", "aborted")).toBe(1);
    expect(rpc("Get", "ok")).toBe(2);
    expect(rpc("Get", "not_found")).toBe(1);
    expect(samples.filter((s) => s.name === "eskit_rpc_requests_total")).toHaveLength(6);
    expect(sampleValue(samples, "eskit_rpc_duration_seconds_count", { service, method: "Get" })).toBe(3);
    expect(sampleValue(samples, "eskit_rpc_duration_seconds_count", { service, method: "Create" })).toBe(4);

    // Each successful write is one Append the Event Store took (3 creates, 1 update).
    expect(sampleValue(samples, "eskit_crud_event_store_calls_total", { method: "Append", code: "ok" })).toBe(4);
    const calls = samples.filter((s) => s.name === "eskit_crud_event_store_calls_total");
    expect(calls.length).toBeGreaterThan(1);
    const eventStoreSamples = (await scrape(harness.eventStore.url)).samples;
    for (const call of calls) {
      const counted = sampleValue(eventStoreSamples, "eskit_rpc_requests_total", {
        service: "eskit.eventstore.v1.EventStoreService",
        method: call.labels["method"]!,
        code: call.labels["code"]!,
      });
      expect({ ...call.labels, value: counted }).toEqual({ ...call.labels, value: call.value });
    }
    expect(sampleValue(eventStoreSamples, "eskit_append_batch_events_sum")).toBe(4);
    expect(sampleValue(eventStoreSamples, "eskit_log_head_id")).toBe(4);
  });

  itWithTools([promtool], "passes promtool check metrics", async () => {
    const { body } = await scrape(harness.url);
    expect(body).toContain("eskit_crud_event_store_calls_total{");
    await expectPromtoolClean(body);
  });
});
