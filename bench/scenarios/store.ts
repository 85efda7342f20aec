/**
 * Scenario 9: what a task store costs (docs/durability.md). The same
 * processor in memory and with `sqliteStore` (SQLite in WAL mode,
 * `synchronous: 'normal'`, in a scratch folder): no-op throughput as in
 * scenario 1, where the store's group commits are most of the added work,
 * and the wall time of 400 tasks of 10 ms (64 in flight), where they should
 * disappear behind the work.
 */
import { runWindow } from '../drive.js';
import { phase } from '../protocol.js';
import { openPool } from './open.js';
import type { Scenario } from './scenario.js';
import { noopThroughput } from './throughput.js';

const SLEEPS = 400;

export const store: Scenario = {
  id: 'store',
  title: '9. Task store',
  caption: (s) =>
    `Troupe in memory and with \`store: sqliteStore({ path })\` (\`synchronous: 'normal'\`): no-op tasks/s as in scenario 1 (${s.inspectTasks.toLocaleString('en')} tasks or ${s.capMs / 1_000} s), higher is better; ` +
    `and the wall time of ${SLEEPS} tasks of 10 ms, 64 in flight, 2 threads, lower is better. The ratio is with ÷ without.`,
  contenders: ['troupe', 'troupe-store'],
  subjects: ['troupe-store'],
  metrics: [
    { key: 'tasksPerSec', label: 'no-op tasks/s', better: 'higher', digits: 0, compare: 'ratio' },
    { key: 'sleepMs', label: '10 ms tasks, ms', better: 'lower', digits: 0, compare: 'ratio' },
  ],
  rounds: (r) => r,
  timeoutMs: 90_000,
  async run(contender, { sizes }) {
    const pool = await openPool(contender);
    const noop = await noopThroughput(pool, sizes, sizes.inspectTasks);
    phase('sleep');
    const start = performance.now();
    await runWindow({ total: SLEEPS, inFlight: 64 }, () => pool.run('sleep', { ms: 10 }));
    return { ...noop, sleepMs: performance.now() - start };
  },
};
