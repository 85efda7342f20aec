/**
 * Scenario 4: 30% of tasks fail their first attempt. Measures what a failure
 * costs: carrying the error back, deciding to retry, running again. Troupe
 * retries by itself (`backoff.delay: 0`); the peers have no retry, so their
 * driver resubmits once from the main thread.
 */
import { rate, runFlaky, runWindow } from '../drive.js';
import { phase } from '../protocol.js';
import { openPool } from './open.js';
import type { Scenario } from './scenario.js';

export const retry: Scenario = {
  id: 'retry',
  title: '4. Retry-heavy',
  caption: (s) =>
    `${s.retryTasks.toLocaleString('en')} tasks (or ${s.capMs / 1_000} s), 30% of which throw on their first attempt and succeed on the second; ${s.inFlight.toLocaleString('en')} in flight, 2 threads. ` +
    'Tasks (not attempts) per second, higher is better.',
  contenders: ['troupe', 'troupe-tuned', 'piscina', 'piscina-tuned', 'tinypool', 'workerpool', 'raw'],
  subjects: ['troupe', 'troupe-tuned'],
  metrics: [{ key: 'tasksPerSec', label: 'tasks/s', better: 'higher', digits: 0, compare: 'ratio' }],
  rounds: (r) => r,
  timeoutMs: 60_000,
  async run(contender, { sizes }) {
    const pool = await openPool(contender, { retry: true });
    const warmup = sizes.warmupTasks;
    phase('warm-up');
    await runWindow({ total: warmup, inFlight: sizes.inFlight }, (i) => runFlaky(pool, i));
    // Ids continue after the warm-up's, so every id is fresh and 30% still fail.
    phase('measure');
    const window = { total: sizes.retryTasks, inFlight: sizes.inFlight, capMs: sizes.capMs };
    return rate(await runWindow(window, (i) => runFlaky(pool, warmup + i)));
  },
};
