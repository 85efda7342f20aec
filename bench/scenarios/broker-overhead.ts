/**
 * Distributed scenario B (`--distributed`): what going through the broker
 * costs a task that does nothing, against Troupe's in-memory mode, both with
 * `workers: 1` and otherwise default options, in one process. In broker mode
 * that process holds a node and a pure client on the same stream, so every
 * task makes the whole trip: published to the stream, pulled by the node,
 * run, its result put in the results bucket, seen by the client's watch.
 *
 * `nats` is the defaults as users get them: the node holds its one slot's
 * task plus `prefetch` = workers × window = 16 more. `nats-prefetch` lets it
 * hold 64, to show how much of the rest is pulls rather than the per-task
 * work of client, node and server.
 */
import { Bench } from 'tinybench';

import type { Processor, TaskResult } from '../../src/index.js';
import { openNodeAndClient } from '../cluster/pair.js';
import { DISTRIBUTED_SIZES, SIZES } from '../config.js';
import { HANDLERS } from '../contenders/pool.js';
import { runWindow } from '../drive.js';
import { phase } from '../protocol.js';
import { median } from '../stats.js';
import { closeLater } from './open.js';
import type { Metrics, Scenario } from './scenario.js';

/** Tasks the `nats-prefetch` node holds beyond its running one. */
const PREFETCH = 64;

/** Scenario contender → the broker's `prefetch`: `null` for in-memory, `undefined` for its default. */
function prefetchOf(contender: string): number | undefined | null {
  switch (contender) {
    case 'in-memory':
      return null;
    case 'nats':
      return undefined;
    case 'nats-prefetch':
      return PREFETCH;
    default:
      throw new Error(`the broker-overhead scenario runs in-memory, nats, nats-prefetch, not ${JSON.stringify(contender)}`);
  }
}

function check(result: TaskResult): void {
  if (result.status === 'failed') throw result.error;
  if (result.status === 'cancelled') throw new Error(`task ${result.id} cancelled: ${result.reason}`);
}

/** Opens the mode and returns the processor to submit to and read results from. */
async function open(contender: string): Promise<Processor> {
  const prefetch = prefetchOf(contender);
  // Imported here, not at the top: every child imports this module, and
  // only a child of this scenario may load Troupe and the NATS client.
  if (prefetch === null) {
    const { createProcessor } = await import('../contenders/troupe.js');
    const processor = createProcessor({ handlers: HANDLERS, workers: 1 });
    closeLater({ close: async () => void (await processor.shutdown()) });
    await processor.ready;
    return processor;
  }
  return openNodeAndClient('overhead', { workers: 1 }, prefetch === undefined ? {} : { prefetch });
}

export const brokerOverhead: Scenario = {
  id: 'broker-overhead',
  title: 'B. Broker overhead: NATS against in-memory',
  caption: () => {
    const d = DISTRIBUTED_SIZES;
    return (
      `${d.brokerTasks.toLocaleString('en')} no-op tasks (\`submit\` then \`result(id)\`), ${SIZES.inFlight.toLocaleString('en')} in flight, after ${d.brokerWarmup.toLocaleString('en')} untimed; ` +
      `then ${d.brokerLatencyTasks.toLocaleString('en')} sequential round trips (tinybench) after ${d.brokerLatencyWarmup.toLocaleString('en')} untimed. ` +
      '`workers: 1`, defaults otherwise; in broker mode a node and a pure client in the one process, NATS JetStream with memory storage on this machine. ' +
      `\`nats\`: default \`prefetch\` (workers × window = 16); \`nats-prefetch\`: \`prefetch: ${PREFETCH}\`. ` +
      'Tasks/s (higher is better); ÷ in-memory = this ÷ the median of in-memory; overhead µs/task = 10⁶ ÷ this − 10⁶ ÷ in-memory median (lower is better); p50 µs of a round trip (lower is better).'
    );
  },
  contenders: ['in-memory', 'nats', 'nats-prefetch'],
  subjects: [],
  metrics: [
    { key: 'tasksPerSec', label: 'tasks/s', better: 'higher', digits: 0 },
    { key: 'vsMemory', label: '÷ in-memory', better: 'higher', digits: 3 },
    { key: 'overheadUs', label: 'overhead µs/task', better: 'lower', digits: 0 },
    { key: 'p50', label: 'p50 µs', better: 'lower', digits: 0 },
  ],
  rounds: (r) => r,
  timeoutMs: 60_000,
  async run(contender) {
    const d = DISTRIBUTED_SIZES;
    phase('start');
    const processor = await open(contender);
    const task = (i: number) => processor.result(processor.submit({ handler: 'noop', payload: i })).then(check);
    phase('warm-up');
    await runWindow({ total: d.brokerWarmup, inFlight: SIZES.inFlight }, task);
    phase('measure');
    const run = await runWindow({ total: d.brokerTasks, inFlight: SIZES.inFlight }, task);
    phase('latency');
    let i = 0;
    const bench = new Bench({
      iterations: d.brokerLatencyTasks,
      time: 0,
      warmupIterations: d.brokerLatencyWarmup,
      warmupTime: 0,
      throws: true,
    });
    bench.add('round trip', () => task(i++));
    await bench.run();
    const result = bench.getTask('round trip')?.result;
    if (result?.state !== 'completed') throw new Error(`tinybench: ${result?.state ?? 'no result'}`);
    // tinybench reports ms.
    return { tasksPerSec: (run.tasks / run.ms) * 1_000, p50: result.latency.p50 * 1_000, tasks: run.tasks };
  },
  derive(samples: ReadonlyMap<string, Metrics[]>) {
    const memory = (samples.get('in-memory') ?? []).map((m) => m.tasksPerSec as number);
    if (memory.length === 0) return;
    const base = median(memory);
    for (const [contender, list] of samples) {
      for (const m of list) {
        if (!m.tasksPerSec) continue;
        m.vsMemory = m.tasksPerSec / base;
        if (contender !== 'in-memory') m.overheadUs = 1e6 / m.tasksPerSec - 1e6 / base;
      }
    }
  },
};
