/**
 * A budget of bytes shared by many holders (e.g. every stream of a process buffering messages for its client): a
 * holder takes bytes before it buffers and gives them back once its transport has taken them, so together they never
 * hold more than `total`. Takers wait in arrival order; a wait ends early when the taker's signal aborts.
 */
export class ByteBudget {
  #available: number;
  readonly #waiting: Array<{ bytes: number; grant: () => void }> = [];

  /** `total` bytes, and the most one taker may hold at once (larger requests are cut down to it). */
  constructor(readonly total: number) {
    this.#available = total;
  }

  /** Bytes taken now. */
  get used(): number {
    return this.total - this.#available;
  }

  /**
   * Takes `bytes` (at most `total`) once they are free; resolves with the bytes taken, or 0 when `signal` aborted
   * first (nothing is then taken).
   */
  take(bytes: number, signal: AbortSignal): Promise<number> {
    const wanted = Math.min(Math.max(0, bytes), this.total);
    if (signal.aborted) return Promise.resolve(0);
    if (this.#waiting.length === 0 && this.#available >= wanted) {
      this.#available -= wanted;
      return Promise.resolve(wanted);
    }
    return new Promise((resolve) => {
      const waiter = {
        bytes: wanted,
        grant: () => {
          signal.removeEventListener("abort", abandon);
          resolve(wanted);
        },
      };
      const abandon = (): void => {
        const at = this.#waiting.indexOf(waiter);
        if (at >= 0) this.#waiting.splice(at, 1);
        resolve(0);
        this.#grant(); // a large waiter leaving may unblock smaller ones behind it
      };
      signal.addEventListener("abort", abandon, { once: true });
      this.#waiting.push(waiter);
    });
  }

  /** Takes `bytes` only if they are free now and nobody waits (for work that is worth doing only now); else 0. */
  tryTake(bytes: number): number {
    if (bytes <= 0 || this.#waiting.length > 0 || this.#available < bytes) return 0;
    this.#available -= bytes;
    return bytes;
  }

  /** Gives back bytes taken with {@link take}. */
  give(bytes: number): void {
    this.#available = Math.min(this.total, this.#available + bytes);
    this.#grant();
  }

  #grant(): void {
    while (this.#waiting.length > 0 && this.#available >= this.#waiting[0]!.bytes) {
      const next = this.#waiting.shift()!;
      this.#available -= next.bytes;
      next.grant();
    }
  }
}
