/** The drivers every contender is run with: the same code for all, only the pool differs. */
import { Bench } from 'tinybench';

import type { Pool } from './contenders/pool.js';

/**
 * Times `trip` one call at a time with tinybench: `iterations` timed after
 * `warmup` untimed; returns the p50 and p99 in µs.
 */
export async function roundTrips(iterations: number, warmup: number, trip: () => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  const bench = new Bench({ iterations, time: 0, warmupIterations: warmup, warmupTime: 0, throws: true });
  bench.add('round trip', () => trip().then(() => undefined));
  await bench.run();
  const result = bench.getTask('round trip')?.result;
  if (result?.state !== 'completed') throw new Error(`tinybench: ${result?.state ?? 'no result'}`);
  // tinybench reports ms.
  return { p50: result.latency.p50 * 1_000, p99: result.latency.p99 * 1_000 };
}

export interface Window {
  /** Tasks to run. */
  readonly total: number;
  /** Tasks kept outstanding. */
  readonly inFlight: number;
  /**
   * Stop submitting after this many ms (the tasks in flight still finish), so
   * a slow contender cannot blow the run's time budget. The count actually
   * run is returned; a rate stays comparable, a count is reported as capped.
   */
  readonly capMs?: number;
}

export interface WindowRun {
  readonly tasks: number;
  readonly ms: number;
  readonly capped: boolean;
}

/**
 * Runs tasks keeping `inFlight` outstanding: each lane submits its next task
 * as soon as its last one settles, so a pool is never starved nor handed more
 * than the window. Rejects on the first failed task.
 */
export async function runWindow({ total, inFlight, capMs }: Window, task: (i: number) => Promise<unknown>): Promise<WindowRun> {
  const start = performance.now();
  const deadline = capMs === undefined ? Number.POSITIVE_INFINITY : start + capMs;
  let next = 0;
  let capped = false;
  const lane = async (): Promise<void> => {
    while (next < total) {
      // Reading the clock per task costs the same for every contender.
      if (performance.now() >= deadline) {
        capped = true;
        return;
      }
      await task(next++);
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, total) }, lane));
  return { tasks: next, ms: performance.now() - start, capped };
}

/** Tasks per second of a window run, with its count and whether the time cap cut it short (1) or not (0). */
export function rate(run: WindowRun): { tasksPerSec: number; tasks: number; capped: number } {
  return { tasksPerSec: (run.tasks / run.ms) * 1_000, tasks: run.tasks, capped: run.capped ? 1 : 0 };
}

/**
 * Runs a task that may fail once. Troupe retries by itself; for a pool
 * without retries the driver resubmits at once on the main thread, which is
 * what a user of that pool would have to write.
 */
export function runFlaky(pool: Pool, i: number): Promise<unknown> {
  if (pool.retries) return pool.run('flaky', { i });
  return pool.run('flaky', { i, attempt: 1 }).catch(() => pool.run('flaky', { i, attempt: 2 }));
}
