/**
 * `npm run soak -- --tasks 1000000 [--faults none|light|heavy] [--workers 2]
 * [--concurrency 2]`: the chaos run of the test suite, long. Faults `light`
 * (the default): 1 in 1,000 attempts kills its thread, 1 in 1,000 hangs past
 * its timeout, 1 in 200 throws, 1 in 500 tasks is cancelled; `heavy` is the
 * chaos test's mix. Every invariant is checked as it goes (no task lost, none
 * ending twice, no id running twice at once, no promise hung); shutdown comes
 * with the last 0.05% in flight. Prints the heap (after a forced GC) and the
 * RSS every 100,000 tasks, then the figures; exits 1 if any invariant broke.
 */
import { parseArgs } from 'node:util';

import type { ChaosFaults } from '../test/fixtures/chaos-handlers.js';
import { runChaos } from '../test/helpers/chaos.js';

const { values } = parseArgs({
  options: {
    tasks: { type: 'string', default: '100000' },
    workers: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '2' },
    faults: { type: 'string', default: 'light' },
  },
});
const usage = (text: string): never => {
  console.error(`soak: ${text}`);
  process.exit(2);
};
const number = (name: string, text: string | undefined): number => {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) usage(`--${name} must be a positive integer, got ${text}`);
  return value;
};
const faults = values.faults as ChaosFaults;
if (!['none', 'light', 'heavy'].includes(faults)) usage(`--faults must be none, light or heavy, got ${values.faults}`);

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
const memory = () => {
  (globalThis as { gc?: () => void }).gc?.();
  const { heapUsed, rss } = process.memoryUsage();
  return `heap ${mb(heapUsed)}, rss ${mb(rss)}`;
};
const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
console.log(`start: ${memory()}`);
const report = await runChaos({
  tasks: number('tasks', values.tasks),
  workers: number('workers', values.workers),
  concurrency: number('concurrency', values.concurrency),
  faults,
  shutdownAt: 0.9995,
  progress: { every: 100_000, report: (settled) => console.log(`${settled.toLocaleString('en')} settled: ${memory()}, ${elapsed()}`) },
});
const { done, failed, cancelled, handedBack } = report.outcomes;
console.log(`soak (${faults} faults): ${report.tasks} tasks, ${report.attempts} attempts in ${elapsed()}`);
console.log(`faults injected: ${report.faults.crashes} thread crashes or kills, ${report.faults.timeouts} attempt timeouts`);
console.log(`ended: ${done} done, ${failed} failed, ${cancelled} cancelled, ${handedBack} handed back by shutdown`);
console.log(`pool before shutdown: ${report.threadsAliveBeforeShutdown} threads`);
console.log(`heap: ${report.heapBeforeMb.toFixed(1)} MB before, ${report.heapAfterMb.toFixed(1)} MB after (forced GC); end: ${memory()}`);
console.log(`violations: ${report.violations.length}`);
for (const violation of report.violations.slice(0, 20)) console.log(`  ${violation}`);
process.exitCode = report.violations.length === 0 ? 0 : 1;
