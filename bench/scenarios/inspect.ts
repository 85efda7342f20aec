/**
 * Scenario 7: what an attached XState inspection observer costs Troupe. The
 * observer does nothing, so the difference is the inspection events Troupe
 * (XState) builds and delivers per task.
 */
import { openPool } from './open.js';
import type { Scenario } from './scenario.js';
import { noopThroughput } from './throughput.js';

export const inspect: Scenario = {
  id: 'inspect',
  title: '7. Inspection observer',
  caption: (s) =>
    `Troupe's no-op throughput as in scenario 1 (${s.inspectTasks.toLocaleString('en')} tasks or ${s.capMs / 1_000} s, ${s.inFlight.toLocaleString('en')} in flight), without and with \`inspect: () => {}\`. ` +
    'Tasks/s, higher is better; the ratio is with ÷ without.',
  contenders: ['troupe', 'troupe-inspect'],
  subjects: ['troupe-inspect'],
  metrics: [{ key: 'tasksPerSec', label: 'tasks/s', better: 'higher', digits: 0, compare: 'ratio' }],
  rounds: (r) => r,
  timeoutMs: 60_000,
  async run(contender, { sizes }) {
    return noopThroughput(await openPool(contender), sizes, sizes.inspectTasks);
  },
};
