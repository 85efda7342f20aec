/**
 * `npm run soak -- --tasks 100000 [--workers 2] [--concurrency 2]`: the chaos
 * run of the test suite, long. Prints the figures and exits 1 if any
 * invariant broke.
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

const handedBack = new Set(report.unfinished.map((task) => task.id));
const violations: string[] = [...report.overlaps];
const seen = new Set<string>();
for (const result of report.results) {
  if (seen.has(result.id)) violations.push(`${result.id}: more than one result`);
  seen.add(result.id);
  if (report.callbacks.get(result.id) !== 1) violations.push(`${result.id}: callback ran ${report.callbacks.get(result.id) ?? 0} times`);
  if (handedBack.has(result.id) && result.status !== 'cancelled') violations.push(`${result.id}: handed back but ${result.status}`);
  if (result.attempts > 4) violations.push(`${result.id}: ${result.attempts} attempts`);
}
if (seen.size !== report.tasks) violations.push(`${report.tasks - seen.size} tasks without a result`);

const { crashes, timeouts, failed, cancelled } = report.faults;
console.log(`soak: ${report.tasks} tasks, ${report.attempts} attempts in ${seconds.toFixed(1)} s`);
console.log(`faults injected: ${crashes} thread crashes or kills, ${timeouts} timeouts; ${failed} tasks failed, ${cancelled} cancelled (${handedBack.size} of them handed back by shutdown)`);
console.log(`pool before shutdown: ${report.threadsAliveBeforeShutdown} threads`);
console.log(`heap: ${report.heapBeforeMb.toFixed(1)} MB before, ${report.heapAfterMb.toFixed(1)} MB after (forced GC: run with node --expose-gc)`);
console.log(`violations: ${violations.length}`);
for (const violation of violations.slice(0, 20)) console.log(`  ${violation}`);
process.exitCode = violations.length === 0 ? 0 : 1;
