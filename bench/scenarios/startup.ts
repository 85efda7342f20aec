/**
 * Scenario 6: time from constructing the pool to the first result, in a
 * process that has already imported the library (import time is not counted:
 * it is paid once per process whatever the pool does).
 */
import { phase } from '../protocol.js';
import { loadPool } from './open.js';
import type { Scenario } from './scenario.js';

export const startup: Scenario = {
  id: 'startup',
  title: '6. Start-up',
  caption: () =>
    'Time from `createProcessor(...)` / `new Piscina(...)` (and the others) to the first no-op result, 2 threads, library already imported. ms, lower is better.',
  contenders: ['troupe', 'piscina', 'tinypool', 'workerpool', 'raw'],
  subjects: ['troupe'],
  metrics: [{ key: 'ms', label: 'ms', better: 'lower', digits: 1, compare: 'ratio' }],
  rounds: (r) => r,
  timeoutMs: 60_000,
  async run(contender) {
    const create = await loadPool(contender);
    phase('first task');
    const start = performance.now();
    const pool = create();
    await pool.run('noop', 0);
    return { ms: performance.now() - start };
  },
};
