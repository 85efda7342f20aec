/**
 * Finds the loop count of a ≈1 ms `cpu` task on this machine, once, in the
 * orchestrator; every child then runs that same count, so all contenders do
 * identical work whatever their process's timing noise.
 */
import { median } from './stats.js';
import { spin } from './workers/handlers.mjs';

const TARGET_MS = 1;

function timeSpin(n: number, runs: number): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    spin(n, i + 1);
    times.push(performance.now() - start);
  }
  return median(times);
}

export function calibrateCpu(): { iterations: number; ms: number } {
  let n = 100_000;
  timeSpin(n, 200); // let V8 optimise the loop first
  for (let pass = 0; pass < 3; pass++) n = Math.max(1_000, Math.round((n * TARGET_MS) / timeSpin(n, 50)));
  return { iterations: n, ms: timeSpin(n, 50) };
}
