/**
 * Scenario 3: one task at a time, so each sample is a full round trip through
 * the pool: submit, hop to a thread, run, hop back, settle. tinybench times
 * each call and reports the percentiles.
 */
import { roundTrips } from '../drive.js';
import { phase } from '../protocol.js';
import { openPool } from './open.js';
import type { Scenario } from './scenario.js';

export const latency: Scenario = {
  id: 'latency',
  title: '3. Latency',
  caption: (s) =>
    `One no-op task at a time: ${s.latencyTasks.toLocaleString('en')} sequential round trips (tinybench) after ${s.latencyWarmup.toLocaleString('en')} untimed, 2 threads. ` +
    'p50 and p99 in µs, lower is better.',
  contenders: ['troupe', 'troupe-tuned', 'piscina', 'piscina-tuned', 'tinypool', 'workerpool', 'raw', 'raw-batched'],
  subjects: ['troupe', 'troupe-tuned'],
  metrics: [
    { key: 'p50', label: 'p50 µs', better: 'lower', digits: 1, compare: 'ratio' },
    { key: 'p99', label: 'p99 µs', better: 'lower', digits: 1, compare: 'ratio' },
  ],
  rounds: (r) => r,
  timeoutMs: 60_000,
  async run(contender, { sizes }) {
    const pool = await openPool(contender);
    let i = 0;
    phase('warm-up and measure');
    return roundTrips(sizes.latencyTasks, sizes.latencyWarmup, () => pool.run('noop', i++));
  },
};
