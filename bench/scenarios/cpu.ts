/**
 * Scenario 2: CPU-bound tasks of ≈1 ms. Here the pool's overhead is small
 * next to the work; what counts is keeping both threads busy to the end. The
 * speedup is the main-thread time (measured in its own process) over the
 * pool's.
 */
import { runWindow } from '../drive.js';
import { phase } from '../protocol.js';
import { median } from '../stats.js';
import { openPool } from './open.js';
import type { Metrics, Scenario } from './scenario.js';

export const cpu: Scenario = {
  id: 'cpu',
  title: '2. CPU-bound',
  caption: (s) =>
    `${s.cpuTasks.toLocaleString('en')} tasks of ≈1 ms of integer math (the same loop count for all, calibrated once), ${s.inFlight.toLocaleString('en')} in flight, 2 threads. ` +
    'Wall time (lower is better) and speedup = median main-thread time ÷ this time (higher is better; 2.00× is the ceiling on 2 threads).',
  contenders: ['main-thread', 'troupe', 'piscina', 'tinypool', 'workerpool', 'raw'],
  subjects: ['troupe'],
  metrics: [
    { key: 'ms', label: 'wall ms', better: 'lower', digits: 0 },
    { key: 'speedup', label: 'speedup', better: 'higher', digits: 2, compare: 'ratio' },
  ],
  rounds: (r) => r,
  timeoutMs: 60_000,
  async run(contender, { sizes, cpuIterations }) {
    const pool = await openPool(contender);
    const task = (i: number) => pool.run('cpu', { n: cpuIterations, seed: i + 1 });
    // Enough untimed tasks to get the loop optimised in every thread.
    phase('warm-up');
    await runWindow({ total: 20, inFlight: sizes.inFlight }, task);
    phase('measure');
    return { ms: (await runWindow({ total: sizes.cpuTasks, inFlight: sizes.inFlight }, task)).ms };
  },
  derive(samples: ReadonlyMap<string, Metrics[]>) {
    const main = (samples.get('main-thread') ?? []).map((m) => m.ms as number);
    if (main.length === 0) return;
    const mainMs = median(main);
    for (const list of samples.values()) for (const m of list) if (m.ms) m.speedup = mainMs / m.ms;
  },
};
