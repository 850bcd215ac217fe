import { createClient } from "@connectrpc/connect";
import { createNodeTransport } from "@eskit/client/node.js";
import { CrudStoreService } from "@eskit/gen/eskit/crudstore/v1/crud_store_pb.js";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startJetStreamBridge, type RunningJetStreamBridge } from "@eskit/jetstream-bridge/app.js";
import { connectNats } from "@eskit/jetstream-bridge/bridge/nats-connection.js";
import { loadConfig as loadBridgeConfig } from "@eskit/jetstream-bridge/config.js";
import { silentLogger } from "@eskit/server-kit/logger.js";
import type { RunningMetricsConsumer } from "../src/app.js";
import {
  appendEvents,
  expectedCounts,
  startStores,
  startTestMetricsConsumer,
  testConfig,
  waitFor,
  type Stores,
} from "./harness.js";
import { loadDashboards, queriesOf, toPromQL, variableSelector } from "./support/dashboards.js";
import {
  describeWithTools,
  natsServer,
  natsUrl,
  prometheus as prometheusTool,
  promtool,
  systemToolsRequired,
} from "@eskit/test-kit/system-tools.js";
import { startPrometheus, type PrometheusServer, type VectorSample } from "./support/prometheus-server.js";

// A real Prometheus (the Debian package) scrapes a real Metrics Consumer, Event Store and Crud Store every second, and
// a JetStream bridge publishing to this machine's NATS (where one runs, or in CI); what the tests assert is what
// Prometheus stored, read through its HTTP API, as Grafana would read it.

/** Whether a bridge is scraped too: it needs NATS, which CI (ESKIT_REQUIRE_SYSTEM_TOOLS=1) must have. */
const withBridge = natsServer.available || systemToolsRequired;
/** The bridge's stream: this test's own on the shared NATS, deleted afterwards. */
const bridgeStream = `ESKIT_PROMETHEUS_TEST_${randomBytes(5).toString("hex")}`;

/** Per label set ("entity_type event_type"), the value of each series of an instant vector. */
function byLabels(result: readonly VectorSample[]): Map<string, number> {
  return new Map(result.map((s) => [`${s.metric["entity_type"]} ${s.metric["event_type"]}`, Number(s.value[1])]));
}

describeWithTools([prometheusTool, promtool], "the metrics consumer scraped by Prometheus", () => {
  let stores: Stores;
  let consumer: RunningMetricsConsumer;
  let prometheus: PrometheusServer;
  let bridge: RunningJetStreamBridge | undefined;

  beforeAll(async () => {
    stores = await startStores();
    consumer = await startTestMetricsConsumer(testConfig(stores, { consumerId: "prometheus-test" }));
    if (withBridge) {
      bridge = await startJetStreamBridge(
        loadBridgeConfig({
          PORT: "0",
          HOST: "127.0.0.1",
          EVENT_STORE_URL: stores.eventStore.url,
          NATS_URL: natsUrl,
          JETSTREAM_STREAM: bridgeStream,
          JETSTREAM_SUBJECT_PREFIX: `eskit.${bridgeStream.toLowerCase()}`,
          ESKIT_LAG_INTERVAL_MS: "500",
        }),
      );
    }
    prometheus = await startPrometheus({
      "metrics-consumer": `127.0.0.1:${consumer.port}`,
      "event-store": `127.0.0.1:${stores.eventStore.port}`,
      "crud-store": new URL(stores.crudStoreUrl).host,
      ...(bridge === undefined ? {} : { "jetstream-bridge": `127.0.0.1:${bridge.port}` }),
    });
  });
  afterAll(async () => {
    await prometheus?.stop();
    await bridge?.close();
    if (bridge !== undefined) {
      const nats = await connectNats(natsUrl, "eskit-prometheus-test", silentLogger, AbortSignal.timeout(10_000));
      // JetStream's API by request (this package has no JetStream client of its own).
      await nats?.nc.request(`$JS.API.STREAM.DELETE.${bridgeStream}`).catch(() => undefined);
      await nats?.nc.close();
    }
    await consumer?.close();
    await stores?.stop();
  });

  it("brings eskit_events_store_total to exactly the number of events appended, per entity type and event type", async () => {
    const plan: Record<string, number> = {
      "Pet.Created": 7,
      "Pet.Updated": 4,
      "Pet.Deleted": 2,
      "acme.v1.Order.Placed": 5,
      "Log.Written": 1,
    };
    // Interleaved, over several requests, as real traffic would be.
    const all = Object.entries(plan).flatMap(([type, n]) => Array.from({ length: n }, () => type));
    const shuffled = all
      .map((type, i) => ({ type, key: (i * 7919) % all.length }))
      .sort((a, b) => a.key - b.key)
      .map((e) => e.type);
    for (let i = 0; i < shuffled.length; i += 5) await appendEvents(stores.events, shuffled.slice(i, i + 5), `p${i}`);
    const expected = expectedCounts(all);

    let seen = new Map<string, number>();
    await waitFor(
      async () => {
        seen = byLabels((await prometheus.query('eskit_events_store_total{job="metrics-consumer"}')).result);
        return seen.size === expected.size && [...expected].every(([key, n]) => seen.get(key) === n);
      },
      { timeoutMs: 30_000, what: "Prometheus to hold the appended counts" },
    ).catch((error: unknown) => {
      throw new Error(
        `${String(error)}\nPrometheus holds ${JSON.stringify([...seen])}, expected ${JSON.stringify([...expected])}`,
      );
    });
    expect(seen).toEqual(expected);
    const { result } = await prometheus.query('sum(eskit_events_store_total{job="metrics-consumer"})');
    expect(Number(result[0]?.value[1])).toBe(all.length);
  });

  it("runs every query of the dashboards, and the events and consumers dashboards show data (the bridge's where it runs)", async () => {
    // Crud Store events, for the panels of document events.
    const transport = createNodeTransport({ baseUrl: stores.crudStoreUrl, protocol: "grpc" });
    try {
      const crud = createClient(CrudStoreService, transport);
      await crud.registerType({ spec: { entityType: "acme.Pet", schemaSpec: { schemaVersion: 1n, jsonSchema: "" } } });
      const { originator } = await crud.create({ entityType: "acme.Pet", payload: JSON.stringify({ name: "Rex" }) });
      await crud.update({
        entityType: "acme.Pet",
        originator: { id: originator!.id, version: 1n },
        payload: JSON.stringify({ name: "Max" }),
      });
    } finally {
      transport.close();
    }

    const queries = loadDashboards().flatMap(({ file, dashboard }) =>
      queriesOf(file, dashboard).map((q) => ({
        ...q,
        promql: q.where.startsWith("variable") ? variableSelector(q.expr) : toPromQL(q.expr),
        // Nothing overflowed here, so the overflow counter has no series; every other query of these two dashboards
        // reads what the consumer, the Event Store and the bridge export (the bridge's only where one is scraped).
        mustHaveData:
          (file === "events.json" || file === "consumers.json") &&
          !q.expr.includes("eskit_metrics_label_overflow_total") &&
          (bridge !== undefined || !q.expr.includes("eskit_jetstream_bridge_")),
      })),
    );
    let failures: string[] = [];
    const check = async () => {
      failures = [];
      for (const q of queries) {
        try {
          const { result } = await prometheus.query(q.promql);
          if (q.mustHaveData && result.length === 0)
            failures.push(`${q.dashboard} ${q.where}: no data for ${q.promql}`);
        } catch (error) {
          failures.push(`${q.dashboard} ${q.where}: ${String(error)}`);
        }
      }
      return failures.length === 0;
    };
    // rate() and increase() need two scrapes of a series within their window.
    await waitFor(check, { timeoutMs: 20_000, what: "every dashboard query to answer with data" }).catch(() => {});
    expect(failures).toEqual([]);
    expect(queries.length).toBeGreaterThan(30);
    if (bridge !== undefined) {
      // The bridge's lag panel comes down to 0: everything appended above reaches the stream.
      const lag = `max by (stream) (eskit_jetstream_bridge_lag_events{stream="${bridgeStream}"})`;
      let values: number[] = [];
      await waitFor(
        async () => {
          values = (await prometheus.query(lag)).result.map((r) => Number(r.value[1]));
          return values.length === 1 && values[0] === 0;
        },
        { timeoutMs: 20_000, what: "the bridge's lag to reach 0 in Prometheus" },
      ).catch(() => {});
      expect(values).toEqual([0]);
    }
  });
});
