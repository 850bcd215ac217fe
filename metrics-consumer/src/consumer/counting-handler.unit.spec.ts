import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { AppLogEntrySchema, type AppLogEntry } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import { silentLogger } from "@eskit/server-kit/logger.js";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { parseExposition, sampleValue, type MetricSample } from "@eskit/test-kit/exposition.js";
import { EventMetrics } from "../metrics/event-metrics.js";
import { PositionMetrics } from "../metrics/position-metrics.js";
import { CrudTypes } from "./crud-types.js";
import { countingHandler } from "./counting-handler.js";
import { renderMetrics } from "@eskit/server-kit/metrics/cell-metrics.js";

const now = Date.parse("2030-01-01T00:00:00Z");

function entry(
  id: bigint,
  eventType: string,
  options: { payload?: string; originatorId?: string; ageMs?: number } = {},
): AppLogEntry {
  return create(AppLogEntrySchema, {
    id,
    event: {
      eventType,
      originator: { id: options.originatorId ?? `o-${id}`, version: 1n },
      payload: options.payload ?? "{}",
      ...(options.ageMs === undefined ? {} : { occurredOn: timestampFromMs(now - options.ageMs) }),
    },
  });
}

function setup(options: { types?: string[]; maxLabelValues?: number } = {}) {
  const registry = new Registry();
  const types = new CrudTypes(options.types);
  const events = new EventMetrics(registry, "c1", options.maxLabelValues ?? 1000);
  const position = new PositionMetrics(registry, "c1");
  const handle = countingHandler({ types, events, position, logger: silentLogger, now: () => now });
  const samples = async (): Promise<MetricSample[]> => parseExposition(await renderMetrics(registry));
  return { handle, samples, position, types };
}

describe("countingHandler", () => {
  it("counts every event by entity type and action", async () => {
    const { handle, samples } = setup();
    handle(entry(1n, "acme.User.Created"));
    handle(entry(2n, "acme.User.Created"));
    handle(entry(3n, "acme.User.Renamed"));
    handle(entry(4n, "Order.Placed"));
    const s = await samples();
    expect(sampleValue(s, "eskit_events_store_total", { entity_type: "acme.User", event_type: "Created" })).toBe(2);
    expect(sampleValue(s, "eskit_events_store_total", { entity_type: "acme.User", event_type: "Renamed" })).toBe(1);
    expect(sampleValue(s, "eskit_events_store_total", { entity_type: "Order", event_type: "Placed" })).toBe(1);
    expect(s.filter((x) => x.name === "eskit_events_crud_total")).toEqual([]);
  });

  it("counts Created, Updated and Deleted events of registered types as Crud Store events, and nothing else", async () => {
    const { handle, samples } = setup({ types: ["acme.Pet"] });
    for (const [i, type] of [
      "acme.Pet.Created",
      "acme.Pet.Updated",
      "acme.Pet.Deleted",
      "acme.Pet.Fed",
      "acme.User.Created",
    ].entries()) {
      handle(entry(BigInt(i + 1), type));
    }
    const s = await samples();
    const crud = s.filter((x) => x.name === "eskit_events_crud_total");
    expect(crud.map((x) => [x.labels["entity_type"], x.labels["event_type"], x.value])).toEqual([
      ["acme.Pet", "Created", 1],
      ["acme.Pet", "Updated", 1],
      ["acme.Pet", "Deleted", 1],
    ]);
  });

  it("learns a type from its Registered event on the log, so its later document events count as Crud Store events", async () => {
    const { handle, samples, types } = setup();
    handle(entry(1n, "acme.Doc.Created"));
    handle(
      entry(2n, "eskit.crudstore.EntityType.Registered", {
        originatorId: "eskit.crudstore.type:acme.Doc",
        payload: JSON.stringify({ entityType: "acme.Doc", schemaVersion: "1", jsonSchema: "" }),
      }),
    );
    handle(entry(3n, "acme.Doc.Created"));
    handle(
      entry(4n, "eskit.crudstore.EntityType.Registered", {
        originatorId: "eskit.crudstore.type:acme.Other",
        payload: "not json",
      }),
    );
    const s = await samples();
    expect(sampleValue(s, "eskit_events_crud_total", { entity_type: "acme.Doc", event_type: "Created" })).toBe(1);
    expect(sampleValue(s, "eskit_events_store_total", { entity_type: "acme.Doc", event_type: "Created" })).toBe(2);
    expect(
      sampleValue(s, "eskit_events_store_total", {
        entity_type: "eskit.crudstore.EntityType",
        event_type: "Registered",
      }),
    ).toBe(2);
    expect(types.has("acme.Other")).toBe(true);
  });

  it("folds entity types beyond the label limit into other, in both counters alike, and counts the folding", async () => {
    const { handle, samples } = setup({ maxLabelValues: 2, types: ["A", "B", "C"] });
    handle(entry(1n, "A.Created"));
    handle(entry(2n, "B.Created"));
    handle(entry(3n, "C.Created"));
    handle(entry(4n, "D.Created"));
    const s = await samples();
    expect(sampleValue(s, "eskit_events_store_total", { entity_type: "other", event_type: "Created" })).toBe(2);
    expect(sampleValue(s, "eskit_events_crud_total", { entity_type: "other", event_type: "Created" })).toBe(1);
    expect(sampleValue(s, "eskit_metrics_label_overflow_total", { label: "entity_type" })).toBe(2);
    expect(s.filter((x) => x.name === "eskit_events_store_total").length).toBe(3);
  });

  it("observes the age of each event when processed, and a future occurred_on as age 0", async () => {
    const { handle, samples } = setup();
    handle(entry(1n, "A.Created", { ageMs: 30 }));
    handle(entry(2n, "A.Created", { ageMs: 7_200_000 }));
    handle(entry(3n, "A.Created", { ageMs: -5000 }));
    handle(entry(4n, "A.Created"));
    const s = await samples();
    const labels = { consumer_id: "c1" };
    expect(sampleValue(s, "eskit_consumer_event_age_seconds_count", labels)).toBe(3);
    expect(sampleValue(s, "eskit_consumer_event_age_seconds_sum", labels)).toBeCloseTo(7200.03, 6);
    expect(sampleValue(s, "eskit_consumer_event_age_seconds_bucket", { ...labels, le: "0.005" })).toBe(1);
    expect(sampleValue(s, "eskit_consumer_event_age_seconds_bucket", { ...labels, le: "0.05" })).toBe(2);
    expect(sampleValue(s, "eskit_consumer_event_age_seconds_bucket", { ...labels, le: "3600" })).toBe(2);
    expect(sampleValue(s, "eskit_consumer_event_age_seconds_bucket", { ...labels, le: "21600" })).toBe(3);
  });

  it("reports the offset and the lag against the head only once both are known", async () => {
    const { handle, samples, position } = setup();
    const named = async (name: string) => (await samples()).filter((x) => x.name === name);
    expect(await named("eskit_consumer_offset")).toEqual([]);
    position.resumedAt(10n);
    expect(sampleValue(await samples(), "eskit_consumer_offset", { consumer_id: "c1" })).toBe(10);
    expect(await named("eskit_consumer_lag_events")).toEqual([]);
    position.headIs(25n);
    expect(sampleValue(await samples(), "eskit_consumer_lag_events", { consumer_id: "c1" })).toBe(15);
    handle(entry(20n, "A.Created"));
    let s = await samples();
    expect(sampleValue(s, "eskit_consumer_offset", { consumer_id: "c1" })).toBe(20);
    expect(sampleValue(s, "eskit_consumer_lag_events", { consumer_id: "c1" })).toBe(5);
    handle(entry(30n, "A.Created"));
    s = await samples();
    expect(sampleValue(s, "eskit_consumer_lag_events", { consumer_id: "c1" })).toBe(0);
  });
});
