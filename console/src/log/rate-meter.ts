/**
 * Items per second over the last `windowMs`, from counts kept in a few time buckets: the Log page's "entries/s" line.
 * Bounded (one number per bucket) however fast items arrive, and honest when they stop: the rate falls to 0 once the
 * window has passed with nothing new.
 */
export class RateMeter {
  readonly #bucketMs: number;
  readonly #counts: number[];
  /** The bucket number (time / bucketMs) that `#counts[number % length]` belongs to. */
  readonly #owners: number[];

  constructor(
    readonly windowMs = 2000,
    buckets = 8,
  ) {
    this.#bucketMs = windowMs / buckets;
    this.#counts = new Array<number>(buckets).fill(0);
    this.#owners = new Array<number>(buckets).fill(-1);
  }

  /** Notes `count` items arriving at `now` (milliseconds). */
  add(count: number, now: number): void {
    const bucket = Math.floor(now / this.#bucketMs);
    const slot = bucket % this.#counts.length;
    if (this.#owners[slot] !== bucket) {
      this.#owners[slot] = bucket;
      this.#counts[slot] = 0;
    }
    this.#counts[slot]! += count;
  }

  /** Items per second over the window that ends at `now`. */
  perSecond(now: number): number {
    const current = Math.floor(now / this.#bucketMs);
    const oldest = current - this.#counts.length + 1;
    let total = 0;
    this.#owners.forEach((owner, slot) => {
      if (owner >= oldest && owner <= current) total += this.#counts[slot]!;
    });
    return (total * 1000) / this.windowMs;
  }

  reset(): void {
    this.#counts.fill(0);
    this.#owners.fill(-1);
  }
}
