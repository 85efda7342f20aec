/**
 * Scenario 5: what a long run leaves behind. Troupe runs many no-op tasks with
 * its default retention (10,000 results kept), then the heap is measured after
 * forced GCs, with the threads still up. Two references, each in its own
 * process: `threads-only` starts 2 raw worker threads and nothing else;
 * `troupe-idle` is Troupe after 2 tasks, so the difference to `troupe` is what
 * the tasks themselves left, apart from the library's own code and state.
 * `piscina-idle` and `piscina` are the same pair for piscina: RSS growth is
 * each pool's RSS after the run less its idle RSS (issue 16's target).
 */
import { setImmediate as tick } from 'node:timers/promises';

import { THREADS } from '../contenders/pool.js';
import { runWindow } from '../drive.js';
import { phase } from '../protocol.js';
import { median } from '../stats.js';
import { openPool } from './open.js';
import type { Metrics, Scenario } from './scenario.js';

/** Scenario contender → [pool, tasks to run]. */
function plan(contender: string, tasks: number): [string, number] {
  switch (contender) {
    case 'threads-only':
      return ['raw', THREADS];
    case 'troupe-idle':
      return ['troupe', THREADS];
    case 'piscina-idle':
      return ['piscina', THREADS];
    default:
      return [contender, tasks];
  }
}

const MB = 1024 * 1024;

async function collect(): Promise<void> {
  const gc = globalThis.gc;
  if (!gc) throw new Error('the memory scenario needs node --expose-gc');
  // Several passes with a turn of the event loop between: finalizers and
  // weak references (comlink registers some) free more on later passes.
  for (let pass = 0; pass < 4; pass++) {
    gc();
    await tick();
  }
}

export const memory: Scenario = {
  id: 'memory',
  title: '5. Memory',
  caption: (s) =>
    `Main-thread V8 heap used and process RSS (all threads) in MB, after ${s.memoryTasks.toLocaleString('en')} no-op tasks or ${s.memoryCapMs / 1_000} s of them (${s.inFlight.toLocaleString('en')} in flight) with Troupe's default retention and forced GCs, threads still up. ` +
    'RSS growth: RSS after the run less the median RSS of the same pool idle (`troupe-idle`, `piscina-idle`: 2 tasks). ' +
    'Lower is better; the comparison columns are troupe − row, in MB.',
  contenders: ['threads-only', 'troupe-idle', 'troupe', 'piscina-idle', 'piscina'],
  subjects: ['troupe'],
  metrics: [
    { key: 'heapMB', label: 'heap MB', better: 'lower', digits: 1, compare: 'delta' },
    { key: 'rssMB', label: 'RSS MB', better: 'lower', digits: 1, compare: 'delta' },
    { key: 'rssGrowthMB', label: 'RSS growth MB', better: 'lower', digits: 1, compare: 'delta' },
  ],
  rounds: (r) => r,
  timeoutMs: 90_000,
  nodeFlags: ['--expose-gc'],
  async run(contender, { sizes }) {
    const [name, tasks] = plan(contender, sizes.memoryTasks);
    const pool = await openPool(name);
    phase('tasks');
    const run = await runWindow({ total: tasks, inFlight: sizes.inFlight, capMs: sizes.memoryCapMs }, (i) => pool.run('noop', i));
    phase('gc');
    await collect();
    const { heapUsed, rss } = process.memoryUsage();
    return { heapMB: heapUsed / MB, rssMB: rss / MB, tasks: run.tasks, capped: run.capped ? 1 : 0 };
  },
  derive(samples: ReadonlyMap<string, Metrics[]>) {
    for (const pool of ['troupe', 'piscina']) {
      const idle = (samples.get(`${pool}-idle`) ?? []).map((m) => m.rssMB as number);
      if (idle.length === 0) continue;
      const base = median(idle);
      for (const m of samples.get(pool) ?? []) if (m.rssMB !== undefined) m.rssGrowthMB = m.rssMB - base;
    }
  },
};
