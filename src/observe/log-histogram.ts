/** p50, p90, p99 and max of what a histogram has seen, in its unit; `undefined` before the first value. */
export interface Percentiles {
  readonly count: number;
  readonly p50: number | undefined;
  readonly p90: number | undefined;
  readonly p99: number | undefined;
  readonly max: number | undefined;
}

/** Each bucket is 5% wider than the one below it: a percentile is read to within 5%. */
const GROWTH = 1.05;
const LOG_GROWTH = Math.log(GROWTH);
/** Values below this (in the histogram's unit) share the first bucket. */
const FLOOR = 0.001;
/** From 0.001 to 0.001 × 1.05^600 ≈ 5 × 10^9: a microsecond to two months, in ms. */
const BUCKETS = 600;

/**
 * A log-bucketed histogram with a fixed number of buckets: recording is O(1)
 * (one logarithm) and the memory is the same after a billion values as after
 * one, which a list of samples is not. Percentiles are read to within the
 * bucket width (5%); the max is exact.
 */
export class LogHistogram {
  readonly #counts = new Float64Array(BUCKETS);
  #count = 0;
  #max = -Infinity;

  record(value: number): void {
    const index = value <= FLOOR ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(value / FLOOR) / LOG_GROWTH));
    this.#counts[index]!++;
    this.#count++;
    if (value > this.#max) this.#max = value;
  }

  percentiles(): Percentiles {
    if (this.#count === 0) return { count: 0, p50: undefined, p90: undefined, p99: undefined, max: undefined };
    return { count: this.#count, p50: this.#at(0.5), p90: this.#at(0.9), p99: this.#at(0.99), max: this.#max };
  }

  /** The upper bound of the bucket holding the q-th value, capped by the max. */
  #at(q: number): number {
    const rank = Math.ceil(q * this.#count);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) return Math.min(this.#max, FLOOR * GROWTH ** i);
    }
    return this.#max;
  }
}
