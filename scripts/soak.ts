/**
 * `npm run soak -- --tasks 1000000 [--faults none|light|heavy] [--workers 2]
 * [--concurrency 2] [--store [path] [--restart-every 200000]]`: the chaos run
 * of the test suite, long. Faults `light` (the default): 1 in 1,000 attempts
 * kills its thread, 1 in 1,000 hangs past its timeout, 1 in 200 throws, 1 in
 * 500 tasks is cancelled; `heavy` is the chaos test's mix. Every invariant is
 * checked as it goes (no task lost, none ending twice, no id running twice at
 * once, no promise hung); shutdown (not draining: what waits is handed back)
 * comes with the last 0.05% in flight and 64 more submitted in its turn.
 * Prints the heap (after a forced GC) and the RSS every 100,000 tasks, then
 * the figures; exits 1 if any invariant broke.
 *
 * With `--store`, the tasks go through a store file (`path`, which must not
 * exist yet; by default a fresh temp file, removed at the end), and every
 * `--restart-every` settled tasks (default 200,000) the processor is shut
 * down with work in flight (a 300 ms deadline; alternately without draining
 * and draining) and a new one opened on the file, which recovers what was
 * unfinished and finishes it; the invariants hold across the restarts (a
 * recovered task's result comes from the next processor). The run ends with
 * every task settled. Prints each restart and the file's size.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { storeFileBytes } from '../src/store/sqlite.js';
import type { ChaosFaults } from '../test/fixtures/chaos-handlers.js';
import { type ChaosRestart, type ChaosStore, runChaos } from '../test/helpers/chaos.js';

// `--store` may come without a path: give it an empty one, which parseArgs takes.
const args = process.argv.slice(2);
const bare = args.findIndex((arg, i) => arg === '--store' && (i === args.length - 1 || args[i + 1]!.startsWith('-')));
if (bare >= 0) args[bare] = '--store=';
const { values } = parseArgs({
  args,
  options: {
    tasks: { type: 'string', default: '100000' },
    workers: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '2' },
    faults: { type: 'string', default: 'light' },
    store: { type: 'string' },
    'restart-every': { type: 'string' },
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
if (values['restart-every'] !== undefined && values.store === undefined) usage('--restart-every needs --store');
if (values.store && existsSync(values.store))
  usage(`--store ${values.store} exists: give a new file (what it holds would be recovered too)`);

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
const memory = () => {
  (globalThis as { gc?: () => void }).gc?.();
  const { heapUsed, rss } = process.memoryUsage();
  return `heap ${mb(heapUsed)}, rss ${mb(rss)}`;
};
const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
const count = (n: number) => n.toLocaleString('en');

const temp = values.store === '' ? mkdtempSync(join(tmpdir(), 'troupe-soak-')) : undefined;
let store: ChaosStore | undefined;
if (values.store !== undefined) {
  const path = temp ? join(temp, 'tasks.db') : values.store;
  const restartEvery = values['restart-every'] === undefined ? 200_000 : number('restart-every', values['restart-every']);
  let restarts = 0;
  const report = (r: ChaosRestart) =>
    console.log(
      `restart ${++restarts} at ${count(r.settled)} settled: shutdown (${r.drain ? 'drain' : 'no drain'}) with ${count(r.inFlight)} in flight took ${r.shutdownMs.toFixed(0)} ms; ` +
        `${count(r.recovered)} recovered, ready in ${r.readyMs.toFixed(0)} ms; file ${mb(r.bytesBefore)} before shutdown, ${mb(r.bytesAfter)} after; ${elapsed()}`,
    );
  store = { path, restartEvery, report };
  console.log(
    `store: ${path}${temp ? ' (a fresh temp file, removed at the end)' : ''}, restart every ${count(restartEvery)} settled tasks`,
  );
}
console.log(`start: ${memory()}`);
const report = await runChaos({
  tasks: number('tasks', values.tasks),
  workers: number('workers', values.workers),
  concurrency: number('concurrency', values.concurrency),
  faults,
  shutdownAt: 0.9995,
  progress: {
    every: 100_000,
    report: (settled) =>
      console.log(
        `${settled.toLocaleString('en')} settled: ${memory()}${store ? `, file ${mb(storeFileBytes(store.path))}` : ''}, ${elapsed()}`,
      ),
  },
  ...(store ? { store } : {}),
});
const { done, failed, cancelled, handedBack } = report.outcomes;
console.log(`soak (${faults} faults): ${report.tasks} tasks, ${report.attempts} attempts in ${elapsed()}`);
console.log(`faults injected: ${report.faults.crashes} thread crashes or kills, ${report.faults.timeouts} attempt timeouts`);
console.log(`ended: ${done} done, ${failed} failed, ${cancelled} cancelled, ${handedBack} handed back by shutdown`);
console.log(`pool before shutdown: ${report.threadsAliveBeforeShutdown} threads`);
if (report.storeBytes) {
  const recovered = report.restarts.map((r) => count(r.recovered)).join(', ') || 'none';
  console.log(`restarts: ${report.restarts.length}, tasks recovered at each: ${recovered}`);
  console.log(`store file: ${mb(report.storeBytes.beforeShutdown)} before the last shutdown, ${mb(report.storeBytes.atEnd)} at the end`);
}
console.log(`heap: ${report.heapBeforeMb.toFixed(1)} MB before, ${report.heapAfterMb.toFixed(1)} MB after (forced GC); end: ${memory()}`);
console.log(`violations: ${report.violations.length}`);
for (const violation of report.violations.slice(0, 20)) console.log(`  ${violation}`);
if (temp) rmSync(temp, { recursive: true, force: true });
process.exitCode = report.violations.length === 0 ? 0 : 1;
