/** Scenario 1: how many no-op tasks per second a pool turns around: its per-task overhead. */
import type { Sizes } from '../config.js';
import type { Pool } from '../contenders/pool.js';
import { rate, runWindow } from '../drive.js';
import { phase } from '../protocol.js';
import { openPool } from './open.js';
import type { Metrics, Scenario } from './scenario.js';

/** Warms the pool up (threads started, code hot), then times up to `total` no-op tasks. */
export async function noopThroughput(pool: Pool, sizes: Sizes, total: number): Promise<Metrics> {
  phase('warm-up');
  await runWindow({ total: sizes.warmupTasks, inFlight: sizes.inFlight }, (i) => pool.run('noop', i));
  phase('measure');
  return rate(await runWindow({ total, inFlight: sizes.inFlight, capMs: sizes.capMs }, (i) => pool.run('noop', i)));
}

export const throughput: Scenario = {
  id: 'throughput',
  title: '1. No-op throughput',
  caption: (s) =>
    `${s.throughputTasks.toLocaleString('en')} no-op tasks (or ${s.capMs / 1_000} s, whichever ends first), ${s.inFlight.toLocaleString('en')} in flight, 2 threads, after ${s.warmupTasks.toLocaleString('en')} untimed. ` +
    'Tasks/s, higher is better. `*-tuned`: troupe `concurrency: 64`, piscina `concurrentTasksPerWorker: 512`; `raw-batched`: 64 tasks per message.',
  contenders: ['troupe', 'troupe-tuned', 'piscina', 'piscina-tuned', 'tinypool', 'workerpool', 'raw', 'raw-batched'],
  subjects: ['troupe', 'troupe-tuned'],
  metrics: [{ key: 'tasksPerSec', label: 'tasks/s', better: 'higher', digits: 0, compare: 'ratio' }],
  rounds: (r) => r,
  timeoutMs: 60_000,
  async run(contender, { sizes }) {
    return noopThroughput(await openPool(contender), sizes, sizes.throughputTasks);
  },
};
