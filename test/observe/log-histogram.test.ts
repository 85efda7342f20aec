import { describe, expect, it } from 'vitest';

import { LogHistogram } from '../../src/observe/log-histogram.js';

describe('LogHistogram', () => {
  it('reads percentiles to within 5% of the exact ones, and the max exactly', () => {
    const histogram = new LogHistogram();
    let seed = 3;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const values = Array.from({ length: 50_000 }, () => Math.exp(random() * 12) / 100); // 0.01 .. 1,600
    for (const value of values) histogram.record(value);
    const sorted = [...values].sort((a, b) => a - b);
    const exact = (q: number) => sorted[Math.ceil(q * sorted.length) - 1] as number;
    const read = histogram.percentiles();
    expect(read.count).toBe(50_000);
    for (const [q, got] of [
      [0.5, read.p50],
      [0.9, read.p90],
      [0.99, read.p99],
    ] as const) {
      expect(got).toBeGreaterThanOrEqual(exact(q));
      expect(got! / exact(q)).toBeLessThanOrEqual(1.05);
    }
    expect(read.max).toBe(sorted.at(-1));
  });

  it('is empty before the first value', () => {
    expect(new LogHistogram().percentiles()).toEqual({ count: 0, p50: undefined, p90: undefined, p99: undefined, max: undefined });
  });
});
