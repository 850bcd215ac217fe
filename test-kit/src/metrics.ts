import { parseExposition, type MetricSample } from "./exposition.js";
import { promtoolCheckMetrics } from "./promtool.js";
import { expect } from "vitest";

/** One `GET /metrics`: the raw answer and its samples. */
export interface Scrape {
  readonly status: number;
  readonly contentType: string | null;
  readonly body: string;
  readonly samples: MetricSample[];
}

/** Scrapes `baseUrl/metrics` as Prometheus does. */
export async function scrape(baseUrl: string): Promise<Scrape> {
  const response = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(10_000) });
  const body = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    body,
    samples: parseExposition(body),
  };
}

/** Scrapes until `check` holds (a stream ends a moment after its client cancels it), at most ~5 s; returns the last. */
export async function scrapeUntil(baseUrl: string, check: (samples: MetricSample[]) => boolean): Promise<Scrape> {
  let last = await scrape(baseUrl);
  for (let i = 0; i < 100 && !check(last.samples); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    last = await scrape(baseUrl);
  }
  return last;
}

/** Fails unless `promtool check metrics` accepts `body` without a word (a missing promtool fails too). */
export async function expectPromtoolClean(body: string): Promise<void> {
  expect(await promtoolCheckMetrics(body)).toEqual({ exitCode: 0, output: "" });
}
