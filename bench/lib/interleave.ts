/**
 * Runs `ops` one at a time in rounds, each round calling every op once in a new random order: rounds that start
 * during the warm-up are not measured, then rounds go on until `seconds` have passed and at least `minRounds` were
 * measured (so a slow op still gets enough samples for a p99). Returns the latencies (ms) of each op, one per
 * measured round. Reading the things to compare in turn, rather than one block after another, makes drift of a
 * noisy machine hit them alike; shuffling keeps an op from always following the same one (and its warmed caches).
 */
export async function interleave(
  ops: readonly (() => Promise<void>)[],
  warmupSeconds: number,
  seconds: number,
  minRounds = 100,
): Promise<number[][]> {
  const start = performance.now() + warmupSeconds * 1000;
  const end = start + seconds * 1000;
  const latencies = ops.map((): number[] => []);
  const order = ops.map((_, i) => i);
  for (let measured = 0; ;) {
    const roundStart = performance.now();
    if (roundStart >= end && measured >= minRounds) return latencies;
    shuffle(order);
    for (const i of order) {
      const sent = performance.now();
      await ops[i]!();
      if (roundStart >= start) latencies[i]!.push(performance.now() - sent);
    }
    if (roundStart >= start) measured++;
  }
}

function shuffle(items: number[]): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
}
