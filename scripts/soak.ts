/**
 * `npm run soak -- --tasks 100000 [--workers 2] [--concurrency 2]`: the chaos
 * run of the test suite, long. Prints the figures; exits 1 if any invariant
 * broke.
 */
import { parseArgs } from 'node:util';

import { runChaos } from '../test/helpers/chaos.js';

const { values } = parseArgs({
  options: {
    tasks: { type: 'string', default: '100000' },
    workers: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '2' },
  },
});
const number = (name: string, text: string | undefined): number => {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) {
    console.error(`--${name} must be a positive integer, got ${text}`);
    process.exit(2);
  }
  return value;
};

const started = performance.now();
const report = await runChaos({
  tasks: number('tasks', values.tasks),
  workers: number('workers', values.workers),
  concurrency: number('concurrency', values.concurrency),
});
const seconds = (performance.now() - started) / 1000;
const { done, failed, cancelled, handedBack } = report.outcomes;
console.log(`soak: ${report.tasks} tasks, ${report.attempts} attempts in ${seconds.toFixed(1)} s`);
console.log(
  `faults injected: ${report.faults.crashes} thread crashes or kills, ${report.faults.timeouts} attempt timeouts, ~1 in 23 tasks cancelled`,
);
console.log(`ended: ${done} done, ${failed} failed, ${cancelled} cancelled, ${handedBack} handed back by shutdown`);
console.log(`pool before shutdown: ${report.threadsAliveBeforeShutdown} threads`);
console.log(`heap: ${report.heapBeforeMb.toFixed(1)} MB before, ${report.heapAfterMb.toFixed(1)} MB after (forced GC)`);
console.log(`violations: ${report.violations.length}`);
for (const violation of report.violations.slice(0, 20)) console.log(`  ${violation}`);
process.exitCode = report.violations.length === 0 ? 0 : 1;
