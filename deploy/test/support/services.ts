/**
 * The ESKIT services as the deployment files must see them: the variables each one reads (its `configDocs`,
 * the same rows the README's tables are checked against) and the port it listens on by default. The web console's
 * server is no service of the API (no RPC, no metrics), but the images and Compose run it like one: its variables too.
 */
import type { ConfigDoc } from "@eskit/server-kit/env-config.js";
import { configDocs as crudStoreDocs } from "@eskit/crud-store/config.js";
import { configDocs as eventStoreDocs } from "@eskit/event-store/config.js";
import { configDocs as jetStreamBridgeDocs } from "@eskit/jetstream-bridge/config.js";
import { configDocs as metricsConsumerDocs } from "@eskit/metrics-consumer/config.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { configSection } from "@eskit/test-kit/readme-sections.js";
import { repoRoot } from "./compose-file.js";

export const eskitServices = ["event-store", "crud-store", "metrics-consumer", "jetstream-bridge"] as const;
export type EskitService = (typeof eskitServices)[number];

/** Every variable each service reads. */
export const configDocsOf: Record<EskitService, readonly ConfigDoc[]> = {
  "event-store": eventStoreDocs,
  "crud-store": crudStoreDocs,
  "metrics-consumer": metricsConsumerDocs,
  "jetstream-bridge": jetStreamBridgeDocs,
};

/**
 * Every variable the console server reads, from docs/configuration.md's Console table: the console's package exports
 * its browser code only, and console/server/config.unit.spec.ts holds that table equal to the server's `configDocs`,
 * row for row.
 */
export const consoleConfigDocs: readonly ConfigDoc[] = [
  ...configSection(readFileSync(join(repoRoot, "docs/configuration.md"), "utf8"), "Console").matchAll(
    /^\| `([A-Z_]+)` \| ([^|]*) \| (.*) \|$/gmu,
  ),
].map(([, name, value, meaning]) => ({ name: name as string, default: value as string, meaning: meaning as string }));

/** The documented default of `variable` in `service` or the console (throws when it does not read it). */
export function defaultOf(service: EskitService | "console", variable: string): string {
  const doc = (service === "console" ? consoleConfigDocs : configDocsOf[service]).find((d) => d.name === variable);
  if (doc === undefined) throw new Error(`${service} does not read ${variable}`);
  return doc.default;
}

/** Go duration text (`20s`, `1m30s`, `500ms`) in milliseconds, as Compose reads `stop_grace_period` and friends. */
export function durationMs(text: string): number {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  const rest = text.replace(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gu, (_m, n: string, unit: string) => {
    total += Number(n) * (units[unit] as number);
    return "";
  });
  if (rest !== "" || text === "") throw new Error(`not a duration: ${text}`);
  return total;
}
