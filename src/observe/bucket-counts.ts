/**
 * Counts of values per bucket, for a Prometheus histogram without labels:
 * recording a value is a bucket search and three number updates, with no
 * allocation, where prom-client's own `observe` builds a labels object and
 * a closure each time (two histograms were about a third of a KB per task,
 * and 5% of the main thread's time on no-op tasks). The registry reads
 * them only when it is scraped (see `prometheus.ts`).
 */
export class BucketCounts {
  /** Upper bounds, ascending, in the histogram's unit. */
  readonly bounds: readonly number[];
  /** Values per bucket, not cumulative: `counts[i]` holds those in (bounds[i - 1], bounds[i]]; the last, those above every bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  /** Records one value, in the histogram's unit. */
  record(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    // Most values fall in the first few buckets: a scan from the bottom beats a binary search here.
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    (this.counts[i] as number)++;
    this.sum += value;
    this.count++;
  }
}
