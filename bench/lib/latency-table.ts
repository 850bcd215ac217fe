import { count, ms, type summarize } from "./stats.js";
import type { Column } from "./table.js";

/** Per entry answered (its log id → when Append's answer came), how much later it arrived; entries missing are left out. */
export function delaysAfter(answered: ReadonlyMap<bigint, number>, arrivals: ReadonlyMap<bigint, number>): number[] {
  return [...answered].flatMap(([id, at]) => (arrivals.has(id) ? [arrivals.get(id)! - at] : []));
}

/** The columns of a latency table (ms): a reader, its count and quantiles, and a note on the target or a ratio. */
export const latencyColumns: Column[] = [
  { title: "reader", align: "left" },
  { title: "n" },
  { title: "min" },
  { title: "p50" },
  { title: "p90" },
  { title: "p99" },
  { title: "max" },
  { title: "target / ratio", align: "left" },
];

/** One row of a latency table. */
export function latencyRow(name: string, s: ReturnType<typeof summarize>, note: string): string[] {
  return [name, count(s.n), ms(s.min), ms(s.p50), ms(s.p90), ms(s.p99), ms(s.max), note];
}

/** Resolves once `condition` holds, or after `timeoutMs` whatever it says (the caller counts what is missing). */
export async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition() && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}
