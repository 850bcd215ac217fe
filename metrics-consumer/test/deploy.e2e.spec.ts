import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createNodeTransport } from "@eskit/client/node.js";
import { CrudStoreService } from "@eskit/gen/eskit/crudstore/v1/crud_store_pb.js";
import { promtoolCheckMetrics } from "@eskit/test-kit/promtool.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, repoRoot } from "@eskit/test-kit/event-store.js";
import { startJetStreamBridge, type RunningJetStreamBridge } from "@eskit/jetstream-bridge/app.js";
import { loadConfig as loadBridgeConfig } from "@eskit/jetstream-bridge/config.js";
import type { RunningMetricsConsumer } from "../src/app.js";
import {
  appendEvents,
  scrapeWhenAt,
  startStores,
  startTestMetricsConsumer,
  testConfig,
  type Stores,
} from "./harness.js";
import {
  loadDashboards,
  metricNamesOf,
  panelsOf,
  queriesOf,
  toPromQL,
  variableSelector,
} from "./support/dashboards.js";
import { metricTypes, scrape } from "./support/prometheus-text.js";
import { promtool } from "./support/promtool.js";
import { itWithTools, promtool as promtoolTool } from "@eskit/test-kit/system-tools.js";

// deploy/: the Prometheus configuration, Grafana's provisioning and the dashboards, checked with Prometheus' own
// tool and against what the services really export.

const deploy = join(repoRoot, "deploy");
const datasourceUid = "eskit-prometheus";

describe("deploy/prometheus", () => {
  itWithTools([promtoolTool], "is a valid Prometheus configuration scraping the four services", async () => {
    const { exitCode, output } = await promtool(["check", "config", join(deploy, "prometheus/prometheus.yml")]);
    expect(output).toContain("SUCCESS");
    expect(exitCode).toBe(0);
    const text = await readFile(join(deploy, "prometheus/prometheus.yml"), "utf8");
    for (const target of ["event-store:8081", "crud-store:8082", "metrics-consumer:8083", "jetstream-bridge:8084"])
      expect(text).toContain(`"${target}"`);
  });
});

describe("deploy/grafana", () => {
  it("provisions the Prometheus datasource the dashboards use, and the dashboards directory", async () => {
    const datasource = await readFile(join(deploy, "grafana/provisioning/datasources/prometheus.yml"), "utf8");
    expect(datasource).toMatch(/^\s+uid: eskit-prometheus$/mu);
    expect(datasource).toMatch(/^\s+type: prometheus$/mu);
    expect(datasource).toMatch(/^\s+url: http:\/\/prometheus:9090$/mu);
    const dashboards = await readFile(join(deploy, "grafana/provisioning/dashboards/eskit.yml"), "utf8");
    expect(dashboards).toMatch(/^\s+path: \/var\/lib\/grafana\/dashboards$/mu);
  });

  it("has the events, consumers and RPC dashboards, each well formed", () => {
    const all = loadDashboards();
    expect(all.map((d) => d.file)).toEqual(["consumers.json", "events.json", "rpc.json"]);
    expect(new Set(all.map((d) => d.dashboard.uid)).size).toBe(all.length);
    for (const { file, dashboard } of all) {
      expect(dashboard.title, file).toMatch(/^ESKIT \/ /u);
      const panels = panelsOf(dashboard);
      expect(new Set(panels.map((p) => p.id)).size, `${file}: panel ids are unique`).toBe(panels.length);
      for (const panel of panels) {
        const { x, y, w, h } = panel.gridPos;
        expect(
          x >= 0 && w > 0 && x + w <= 24 && y >= 0 && h > 0,
          `${file} "${panel.title}" fits the 24-column grid`,
        ).toBe(true);
        if (panel.type === "row") continue;
        expect(panel.datasource?.uid, `${file} "${panel.title}" datasource`).toBe(datasourceUid);
        expect(panel.targets?.length, `${file} "${panel.title}" has queries`).toBeGreaterThan(0);
        for (const target of panel.targets ?? []) {
          expect(target.expr.trim(), `${file} "${panel.title}" ${target.refId}`).not.toBe("");
          expect(target.datasource?.uid ?? datasourceUid).toBe(datasourceUid);
        }
        expect(new Set(panel.targets?.map((t) => t.refId)).size).toBe(panel.targets?.length);
      }
      // Panels must not overlap: Grafana would move them around.
      const cells = new Set<string>();
      for (const { gridPos: g, title } of panels) {
        for (let cx = g.x; cx < g.x + g.w; cx++) {
          for (let cy = g.y; cy < g.y + g.h; cy++) {
            expect(cells.has(`${cx},${cy}`), `${file} "${title}" overlaps another panel`).toBe(false);
            cells.add(`${cx},${cy}`);
          }
        }
      }
    }
  });

  itWithTools([promtoolTool], "queries only valid PromQL (promtool)", async () => {
    const queries = loadDashboards().flatMap(({ file, dashboard }) => queriesOf(file, dashboard));
    // Each query as a recording rule: `promtool check rules` parses its PromQL. YAML accepts JSON strings.
    const rules = [
      "groups:",
      "  - name: dashboards",
      "    rules:",
      ...queries.flatMap((q, i) => [
        `      - record: dashboard:query${i}`,
        `        expr: ${JSON.stringify(q.where.startsWith("variable") ? variableSelector(q.expr) : toPromQL(q.expr))}`,
      ]),
    ].join("\n");
    const dir = await mkdtemp(join(tmpdir(), "eskit-rules-"));
    try {
      await writeFile(join(dir, "rules.yml"), `${rules}\n`);
      const { exitCode, output } = await promtool(["check", "rules", join(dir, "rules.yml")]);
      expect(output).toContain(`SUCCESS: ${queries.length} rules found`);
      expect(exitCode).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("the metrics the dashboards query", () => {
  let stores: Stores;
  let consumer: RunningMetricsConsumer;
  let bridge: RunningJetStreamBridge;
  /** The metric families each service declares on GET /metrics, with their types. */
  const exported = new Map<string, Map<string, string>>();
  let consumerText = "";
  let bridgeText = "";

  beforeAll(async () => {
    stores = await startStores();
    consumer = await startTestMetricsConsumer(testConfig(stores, { consumerId: "deploy-test" }));
    // Traffic through every service, so each exports every series it can.
    const transport = createNodeTransport({ baseUrl: stores.crudStoreUrl, protocol: "grpc" });
    try {
      const crud = createClient(CrudStoreService, transport);
      await crud.registerType({ spec: { entityType: "acme.Pet", schemaSpec: { schemaVersion: 1n, jsonSchema: "" } } });
      await crud.create({ entityType: "acme.Pet", payload: "{}" });
    } finally {
      transport.close();
    }
    const ids = await appendEvents(stores.events, ["User.Created", "User.Renamed"], "deploy");
    await scrapeWhenAt(consumer.url, "deploy-test", ids.at(-1)!);
    consumerText = (await scrape(consumer.url)).text;
    exported.set("metrics-consumer", metricTypes(consumerText));
    exported.set("event-store", metricTypes((await scrape(stores.eventStore.url)).text));
    exported.set("crud-store", metricTypes((await scrape(stores.crudStoreUrl)).text));
    // The bridge declares its families from the start, before NATS answers: a NATS nothing answers at suffices for
    // their names and types (prometheus.e2e.spec.ts has Prometheus scrape one that publishes).
    bridge = await startJetStreamBridge(
      loadBridgeConfig({
        PORT: "0",
        HOST: "127.0.0.1",
        EVENT_STORE_URL: stores.eventStore.url,
        NATS_URL: `nats://127.0.0.1:${await freePort()}`,
      }),
    );
    bridgeText = (await scrape(bridge.url)).text;
    exported.set("jetstream-bridge", metricTypes(bridgeText));
  });
  afterAll(async () => {
    await bridge?.close();
    await consumer?.close();
    await stores?.stop();
  });

  /** Which service must export a metric, by its name. */
  function ownersOf(family: string): string[] {
    if (/^eskit_(events|consumer|metrics)_/u.test(family)) return ["metrics-consumer"];
    if (/^eskit_(log|append)_/u.test(family)) return ["event-store"];
    if (family.startsWith("eskit_crud_")) return ["crud-store"];
    if (family.startsWith("eskit_jetstream_bridge_")) return ["jetstream-bridge"];
    if (family.startsWith("eskit_rpc_")) return ["event-store", "crud-store", "metrics-consumer"];
    return [];
  }

  /** The family a queried series belongs to: a histogram's `_bucket`, `_sum` and `_count` series are its own. */
  function familyOf(series: string, types: Map<string, string>): string {
    const histogram = /^(.*)_(bucket|sum|count)$/u.exec(series);
    if (histogram !== null && types.get(histogram[1]!) === "histogram") return histogram[1]!;
    return series;
  }

  it("are all exported by the service that owns them, with the type the query expects", () => {
    const problems: string[] = [];
    let checked = 0;
    for (const { file, dashboard } of loadDashboards()) {
      for (const q of queriesOf(file, dashboard)) {
        for (const series of metricNamesOf(q.expr)) {
          checked++;
          const owners = ownersOf(familyOf(series, new Map([...exported.values()].flatMap((m) => [...m]))));
          if (owners.length === 0) problems.push(`${file} ${q.where}: ${series} belongs to no ESKIT service`);
          for (const owner of owners) {
            const types = exported.get(owner)!;
            const family = familyOf(series, types);
            const type = types.get(family);
            if (type === undefined) problems.push(`${file} ${q.where}: ${owner} does not export ${family}`);
            else if (family !== series && type !== "histogram")
              problems.push(`${file} ${q.where}: ${series} but ${family} is a ${type}`);
            else if (/_bucket$/u.test(series) && type !== "histogram")
              problems.push(`${file} ${q.where}: ${series} is not a histogram's`);
            else if (q.expr.includes(`rate(${series}`) && !["counter", "histogram"].includes(type)) {
              problems.push(`${file} ${q.where}: rate() of ${series}, a ${type}`);
            }
          }
        }
      }
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(30);
  });

  itWithTools(
    [promtoolTool],
    "are served by the metrics consumer in a form promtool accepts without a word",
    async () => {
      expect(await promtoolCheckMetrics(consumerText)).toEqual({ exitCode: 0, output: "" });
    },
  );

  it("include the JetStream bridge's lag and publish errors, as the consumers dashboard's bridge panels read them", () => {
    const bridgeQueries = loadDashboards()
      .filter(({ file }) => file === "consumers.json")
      .flatMap(({ file, dashboard }) => queriesOf(file, dashboard))
      .filter((q) => metricNamesOf(q.expr).some((name) => name.startsWith("eskit_jetstream_bridge_")));
    expect(bridgeQueries.map((q) => q.expr)).toEqual(
      expect.arrayContaining([
        "max by (stream) (eskit_jetstream_bridge_lag_events)",
        "sum by (stream) (rate(eskit_jetstream_bridge_publish_errors_total[$__rate_interval]))",
      ]),
    );
    const types = exported.get("jetstream-bridge")!;
    expect([
      types.get("eskit_jetstream_bridge_lag_events"),
      types.get("eskit_jetstream_bridge_publish_errors_total"),
    ]).toEqual(["gauge", "counter"]);
  });

  itWithTools(
    [promtoolTool],
    "are served by the JetStream bridge in a form promtool accepts without a word",
    async () => {
      expect(await promtoolCheckMetrics(bridgeText)).toEqual({ exitCode: 0, output: "" });
    },
  );
});
