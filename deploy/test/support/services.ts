/**
 * The three ESKIT services as the deployment files must see them: the variables each one reads (its `configDocs`,
 * the same rows the README's tables are checked against) and the port it listens on by default.
 */
import type { ConfigDoc } from "@eskit/server-kit/env-config.js";
import { configDocs as crudStoreDocs } from "@eskit/crud-store/config.js";
import { configDocs as eventStoreDocs } from "@eskit/event-store/config.js";
import { configDocs as metricsConsumerDocs } from "@eskit/metrics-consumer/config.js";

export const eskitServices = ["event-store", "crud-store", "metrics-consumer"] as const;
export type EskitService = (typeof eskitServices)[number];

/** Every variable each service reads. */
export const configDocsOf: Record<EskitService, readonly ConfigDoc[]> = {
  "event-store": eventStoreDocs,
  "crud-store": crudStoreDocs,
  "metrics-consumer": metricsConsumerDocs,
};

/** The documented default of `variable` in `service` (throws when the service does not read it). */
export function defaultOf(service: EskitService, variable: string): string {
  const doc = configDocsOf[service].find((d) => d.name === variable);
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
