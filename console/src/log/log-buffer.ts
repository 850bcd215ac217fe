/**
 * The newest `capacity` items of an endless stream, oldest first: the Log page keeps what it shows in one of these,
 * so a tail left open for hours at 2,000 entries a second holds as much memory as one left open for a minute. Pushing
 * past capacity forgets the oldest item; `dropped` counts how many were forgotten, so the page can say so.
 */
export class LogBuffer<T> {
  readonly #items: Array<T | undefined>;
  /** Index of the oldest item in `#items`. */
  #start = 0;
  #size = 0;
  #dropped = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.#items = new Array<T | undefined>(capacity);
  }

  /** How many items it holds now (at most `capacity`). */
  get size(): number {
    return this.#size;
  }

  /** How many items were forgotten to make room since it was created or last cleared. */
  get dropped(): number {
    return this.#dropped;
  }

  push(item: T): void {
    if (this.#size < this.capacity) {
      this.#items[(this.#start + this.#size) % this.capacity] = item;
      this.#size += 1;
      return;
    }
    this.#items[this.#start] = item;
    this.#start = (this.#start + 1) % this.capacity;
    this.#dropped += 1;
  }

  /** The `index`-th item held, 0 being the oldest; undefined outside `[0, size)`. */
  at(index: number): T | undefined {
    if (!Number.isInteger(index) || index < 0 || index >= this.#size) return undefined;
    return this.#items[(this.#start + index) % this.capacity];
  }

  /** The newest item, if any. */
  last(): T | undefined {
    return this.at(this.#size - 1);
  }

  clear(): void {
    this.#items.fill(undefined);
    this.#start = 0;
    this.#size = 0;
    this.#dropped = 0;
  }
}
