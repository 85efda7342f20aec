/**
 * The targets of issue 3 (and issue 14's for the task store, 15's for actors, 16's for RSS), checked against a run's medians. Reported, never
 * asserted: timing has no place in `npm test`.
 */
import { delta, num, ratio } from './format.js';
import { medianOf, type RunResult } from './results.js';
import { median } from './stats.js';

export interface TargetCheck {
  readonly target: string;
  /** How the measured value is computed. */
  readonly measure: string;
  readonly measured: string;
  /** `undefined` when a contender had no successful sample. */
  readonly met: boolean | undefined;
}

function div(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined ? undefined : a / b;
}

function check(value: number | undefined, ok: (value: number) => boolean): boolean | undefined {
  return value === undefined ? undefined : ok(value);
}

export function checkTargets(run: RunResult): TargetCheck[] {
  const m = (scenario: string, contender: string, key: string) => medianOf(run, scenario, contender, key);
  const noop = (contender: string) => m('throughput', contender, 'tasksPerSec');
  const bestTroupe = Math.max(noop('troupe') ?? Number.NaN, noop('troupe-tuned') ?? Number.NaN);

  const vsPiscina = div(noop('troupe'), noop('piscina'));
  const vsTuned = div(Number.isNaN(bestTroupe) ? undefined : bestTroupe, noop('piscina-tuned'));
  const cpu = div(m('cpu', 'troupe', 'speedup'), m('cpu', 'raw', 'speedup'));
  const p50 = div(m('latency', 'troupe', 'p50'), m('latency', 'piscina', 'p50'));
  const p99 = div(m('latency', 'troupe', 'p99'), m('latency', 'piscina', 'p99'));
  const troupeHeap = m('memory', 'troupe', 'heapMB');
  const baseHeap = m('memory', 'threads-only', 'heapMB');
  const heap = troupeHeap === undefined || baseHeap === undefined ? undefined : troupeHeap - baseHeap;
  const troupeGrowth = m('memory', 'troupe', 'rssGrowthMB');
  const piscinaGrowth = m('memory', 'piscina', 'rssGrowthMB');
  const growth = troupeGrowth === undefined || piscinaGrowth === undefined ? undefined : troupeGrowth - piscinaGrowth;
  const inspect = div(m('inspect', 'troupe-inspect', 'tasksPerSec'), m('inspect', 'troupe', 'tasksPerSec'));
  const stored = div(m('store', 'troupe-store', 'tasksPerSec'), m('store', 'troupe', 'tasksPerSec'));
  const sends = m('actors', 'troupe-actors', 'perSec');
  const ask = div(m('actors', 'troupe-actors', 'p50'), m('actors', 'troupe', 'p50'));
  // The memory run may be cut short by its time cap: name the count reached.
  const memoryRuns = run.scenarios.find((s) => s.id === 'memory')?.samples.troupe ?? [];
  const reached = memoryRuns.flatMap((s) => (s.metrics?.tasks === undefined ? [] : [s.metrics.tasks]));
  const memoryTasks = reached.length > 0 ? median(reached) : run.sizes.memoryTasks;

  return [
    {
      target: 'no-op throughput ≥ 2.5× piscina defaults (issue 16; issue 3 asked 2×)',
      measure: 'troupe ÷ piscina',
      measured: ratio(vsPiscina),
      met: check(vsPiscina, (v) => v >= 2.5),
    },
    {
      target: "no-op throughput ≥ 1.2× piscina's best tuned setting (issue 16; issue 3 asked 1×)",
      measure: 'best of troupe, troupe-tuned ÷ piscina-tuned',
      measured: ratio(vsTuned),
      met: check(vsTuned, (v) => v >= 1.2),
    },
    {
      target: 'CPU-bound time ≤ 1.05× raw worker_threads (issue 16): speedup ≥ 0.95× raw',
      measure: 'troupe speedup ÷ raw speedup',
      measured: ratio(cpu),
      met: check(cpu, (v) => v >= 1 / 1.05),
    },
    {
      target: 'p50 latency on two cores ≤ 1.1× piscina (issue 16; issue 3 asked 1.5×)',
      measure: 'troupe p50 ÷ piscina p50',
      measured: ratio(p50),
      met: check(p50, (v) => v <= 1.1),
    },
    {
      target: "p99 latency ≤ piscina's (issue 16)",
      measure: 'troupe p99 ÷ piscina p99',
      measured: ratio(p99),
      met: check(p99, (v) => v <= 1),
    },
    {
      target: `heap after 1M tasks within 10 MB of the baseline${memoryTasks < run.sizes.memoryTasks ? ` (measured after ${num(memoryTasks, 0)}: time cap)` : ''}`,
      measure: 'troupe heap − threads-only heap, MB',
      measured: delta(heap, 1),
      met: check(heap, (v) => v <= 10),
    },
    {
      target: "RSS growth over the memory run ≤ piscina's + 10 MB (issue 16)",
      measure: 'troupe RSS growth − piscina RSS growth, MB',
      measured: delta(growth, 1),
      met: check(growth, (v) => v <= 10),
    },
    {
      target: 'an attached inspector costs ≤ 2× throughput',
      measure: 'troupe-inspect ÷ troupe tasks/s (≥ 0.50× meets it)',
      measured: ratio(inspect),
      met: check(inspect, (v) => v >= 0.5),
    },
    {
      target: "a task store keeps ≥ 0.5× the in-memory no-op throughput (issue 14, synchronous: 'normal')",
      measure: 'troupe-store ÷ troupe tasks/s',
      measured: ratio(stored),
      met: check(stored, (v) => v >= 0.5),
    },
    {
      target: '`send` to 100 actors on 2 threads ≥ 100,000 events/s (issue 15)',
      measure: 'troupe-actors messages/s',
      measured: sends === undefined ? '—' : `${Math.round(sends).toLocaleString('en')}/s`,
      met: check(sends, (v) => v >= 100_000),
    },
    {
      target: '`ask` round trip p50 ≤ 1.2× a no-op task p50 (issue 15)',
      measure: 'troupe-actors ÷ troupe p50',
      measured: ratio(ask),
      met: check(ask, (v) => v <= 1.2),
    },
  ];
}
