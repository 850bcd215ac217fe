/**
 * The Grafana dashboards of deploy/grafana/dashboards, read the way Grafana reads them: panels (also inside rows),
 * their query targets, and the template variables' queries; and those queries turned into plain PromQL.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "@eskit/test-kit/event-store.js";

export const dashboardsDir = join(repoRoot, "deploy/grafana/dashboards");

/** The parts of a Grafana dashboard (JSON model) the tests look at. */
export interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating?: {
    list: Array<{ name: string; type: string; query?: string | { query: string }; datasource?: Datasource }>;
  };
}

export interface Datasource {
  type: string;
  uid: string;
}

export interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: Datasource;
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Array<{ refId: string; expr: string; datasource?: Datasource }>;
  panels?: Panel[];
}

/** One PromQL query of a dashboard, as written there (with Grafana variables). */
export interface DashboardQuery {
  readonly dashboard: string;
  readonly where: string;
  readonly expr: string;
}

/** Every dashboard file, parsed. */
export function loadDashboards(): Array<{ file: string; dashboard: Dashboard }> {
  return readdirSync(dashboardsDir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((file) => ({ file, dashboard: JSON.parse(readFileSync(join(dashboardsDir, file), "utf8")) as Dashboard }));
}

/** Every panel, those inside rows included. */
export function panelsOf(dashboard: Dashboard): Panel[] {
  return dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

/** Every query of the panels and of the template variables. */
export function queriesOf(file: string, dashboard: Dashboard): DashboardQuery[] {
  const fromPanels = panelsOf(dashboard).flatMap((panel) =>
    (panel.targets ?? []).map((t) => ({ dashboard: file, where: `panel "${panel.title}" ${t.refId}`, expr: t.expr })),
  );
  const fromVariables = (dashboard.templating?.list ?? [])
    .filter((v) => v.type === "query")
    .map((v) => ({ dashboard: file, where: `variable ${v.name}`, expr: variableQueryOf(v.query) }));
  return [...fromPanels, ...fromVariables];
}

function variableQueryOf(query: string | { query: string } | undefined): string {
  return typeof query === "string" ? query : (query?.query ?? "");
}

/**
 * The PromQL Prometheus receives for a panel query: Grafana's interval variables become durations and template
 * variables (used in `=~` matchers) match anything, as "All" does.
 */
export function toPromQL(expr: string): string {
  return expr
    .replaceAll("$__rate_interval", "1m")
    .replaceAll("$__interval", "15s")
    .replaceAll("$__range", "1h")
    .replace(/\$\{?[a-z_]+\}?/gu, ".*");
}

/**
 * The PromQL of a variable query `label_values(<selector>, <label>)` is its selector; other queries are PromQL
 * already.
 */
export function variableSelector(expr: string): string {
  const match = /^label_values\((.*),\s*[a-z_]+\)$/u.exec(expr.trim());
  return match === null ? expr : match[1]!;
}

/** The ESKIT metric names a query reads (histogram series keep their `_bucket`, `_sum`, `_count` suffix). */
export function metricNamesOf(expr: string): string[] {
  return [...new Set(expr.match(/\beskit_[a-z0-9_]+\b/gu) ?? [])];
}
