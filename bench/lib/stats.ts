/** The q-quantile (0..1) of already sorted values, nearest-rank; NaN when empty. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

/** p50, p90, p99 and max of `values` (any order). */
export function summarize(values: readonly number[]): {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  min: number;
  n: number;
} {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    n: sorted.length,
    min: sorted[0] ?? NaN,
    p50: quantile(sorted, 0.5),
    p90: quantile(sorted, 0.9),
    p99: quantile(sorted, 0.99),
    max: sorted.at(-1) ?? NaN,
  };
}

/** An integer with thousands separators: 52,341. */
export function count(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "-";
}

/** Milliseconds with one decimal. */
export function ms(n: number): string {
  return Number.isFinite(n) ? n.toFixed(1) : "-";
}

/** A ratio such as 1.23×. */
export function ratio(a: number, b: number): string {
  return b > 0 && Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : "-";
}

/** A target column: its wording, then ✓ or ✗. */
export function target(text: string, met: boolean): string {
  return `${text} ${met ? "✓" : "✗"}`;
}
