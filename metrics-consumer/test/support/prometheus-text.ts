/**
 * Reading what the Metrics Consumer serves on `GET /metrics`, on top of server-kit's exposition parser: sums and
 * per-label-set counts of a counter, and a scrape.
 */
import { parseExposition, type MetricSample } from "@eskit/test-kit/exposition.js";

export { sampleValue, type MetricSample } from "@eskit/test-kit/exposition.js";

/** The sum of every sample named `name` (e.g. a counter across all its label sets); 0 when there is none. */
export function sampleSum(samples: readonly MetricSample[], name: string): number {
  return samples.filter((s) => s.name === name).reduce((sum, s) => sum + s.value, 0);
}

/** `GET /metrics` of `baseUrl`: the text and its samples; fails unless it answers 200. */
export async function scrape(baseUrl: string, token?: string): Promise<{ text: string; samples: MetricSample[] }> {
  const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
  const response = await fetch(`${baseUrl}/metrics`, { headers, signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`GET ${baseUrl}/metrics answered ${response.status}: ${text}`);
  return { text, samples: parseExposition(text) };
}

/** The metric families `text` declares (its `# TYPE` lines), with their types. */
export function metricTypes(text: string): Map<string, string> {
  const types = new Map<string, string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gmu)) types.set(name!, type!);
  return types;
}
