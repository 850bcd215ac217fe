/** The label value every value beyond the limit is counted under. */
export const overflowLabelValue = "other";

/**
 * Bounds the distinct values of one label. The first `maxValues` values seen are kept as they are; every later new
 * value becomes `other`. Each distinct label value is a time series held in memory until the process ends (and in
 * Prometheus for its retention), so without a bound a flood of random event types would exhaust both.
 */
export class LabelGuard {
  private readonly admitted = new Set<string>();

  /**
   * @param maxValues most distinct values kept (`other` is not counted among them)
   * @param onOverflow called every time a value is turned into `other`, so the folding itself can be counted
   */
  constructor(
    private readonly maxValues: number,
    private readonly onOverflow: () => void = () => {},
  ) {
    if (!Number.isInteger(maxValues) || maxValues < 1)
      throw new RangeError(`maxValues must be a positive integer, got ${maxValues}`);
  }

  /** The value to use as the label: `value` itself if it is (or can still be) one of the kept values, else `other`. */
  admit(value: string): string {
    if (this.admitted.has(value)) return value;
    if (this.admitted.size < this.maxValues) {
      this.admitted.add(value);
      return value;
    }
    this.onOverflow();
    return overflowLabelValue;
  }

  /** How many distinct values are kept. */
  get size(): number {
    return this.admitted.size;
  }
}
