/**
 * Scenario 12: what an open dashboard costs Troupe during a run. The same
 * processor without one, and serving one with a token that a page watches
 * for the whole run: its stream of snapshots every 500 ms, and a page of
 * queued, processing and done tasks from the JSON API every second.
 */
import { openPool } from './open.js';
import type { Scenario } from './scenario.js';
import { noopThroughput } from './throughput.js';

export const dashboard: Scenario = {
  id: 'dashboard',
  title: '12. Dashboard open during a run',
  caption: (s) =>
    `Troupe's no-op throughput as in scenario 1 (${s.inspectTasks.toLocaleString('en')} tasks or ${s.capMs / 1_000} s, ${s.inFlight.toLocaleString('en')} in flight), ` +
    'without a dashboard, and with one served (`serveDashboard({ token })`) and watched as an open page watches it: its snapshot stream (every 500 ms) and a page of queued, processing and done tasks from `/api/tasks` every second. ' +
    'Tasks/s, higher is better; the ratio is with ÷ without.',
  contenders: ['troupe', 'troupe-dashboard'],
  subjects: ['troupe-dashboard'],
  metrics: [{ key: 'tasksPerSec', label: 'tasks/s', better: 'higher', digits: 0, compare: 'ratio' }],
  rounds: (r) => r,
  timeoutMs: 60_000,
  async run(contender, { sizes }) {
    return noopThroughput(await openPool(contender), sizes, sizes.inspectTasks);
  },
};
