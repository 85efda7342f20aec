/**
 * Scenario 8: what Troupe's priority queue costs when it is long. One thread
 * is held by a blocker (the `hold` handler, released by cancelling it) while
 * 100,000 no-op tasks are submitted, so all of them wait in the ready queue;
 * then the blocker is released and the queue is drained through the thread.
 * `troupe` draws each task's priority from 8 levels, `troupe-flat` gives all
 * the same one: the same code runs, only the number of buckets (and the heap
 * of priorities above them) differs.
 *
 * Troupe only: piscina, tinypool, workerpool and raw threads have no task
 * priorities in this form, so there is no peer row. The processor is driven
 * through Troupe's own API (the common `Pool` interface has no priority), so
 * this scenario closes it itself, after measuring.
 */
import { setImmediate as tick } from 'node:timers/promises';

import type { Processor, TaskResult } from '../../src/index.js';
import { QUICK } from '../config.js';
import { HANDLERS } from '../contenders/pool.js';
import { phase } from '../protocol.js';
import type { Scenario } from './scenario.js';

/**
 * Tasks kept waiting. Not a field of config.ts's `Sizes`, which no other
 * scenario needs; taken from the same `BENCH_QUICK`, so the orchestrator and
 * its children agree all the same.
 */
const WAITING = QUICK ? 5_000 : 100_000;

/** Untimed tasks run first, through the same submit and dispatch paths (JIT). */
const WARMUP = QUICK ? 500 : 5_000;

/** Priority levels of the `troupe` row; `troupe-flat` has one. */
const LEVELS = 8;

/**
 * A window of 16 attempts waiting in the thread behind the running one (the
 * default was 16 when this scenario was written; it is 64 now, and the
 * scenario keeps 16 so that its figures stay comparable across runs). With `window: 0` every task would pay a full
 * round trip to the thread and back before the next is sent, and that round
 * trip, not the queue, would be most of what is measured. With the window,
 * tasks go many per message and the queue is taken from as fast as the thread
 * starts them; the windows hold one priority at a time (a higher one takes
 * them back), so every task, the first ones included, comes out highest
 * first, which the scenario checks.
 */
const WINDOW = 16;

/** Scenario contender → priority levels. */
function levels(contender: string): number {
  switch (contender) {
    case 'troupe':
      return LEVELS;
    case 'troupe-flat':
      return 1;
    default:
      throw new Error(`the priority scenario runs troupe and troupe-flat only, not ${JSON.stringify(contender)}`);
  }
}

/** `count` priorities in 0..levels−1 from a fixed xorshift32 sequence: the same draw in every process. */
function draw(count: number, levels: number): Uint8Array {
  const priorities = new Uint8Array(count);
  let x = 0x2545f491;
  for (let i = 0; i < count; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    priorities[i] = (x >>> 0) % levels;
  }
  return priorities;
}

interface Batch {
  /** Wall time of the submit calls. */
  readonly submitMs: number;
  /**
   * Resolves when every task has ended `done`, with how many results came
   * with a higher priority than the result before them, the first `skip`
   * (and the one right after them) not counted (the warm-up skips them all):
   * 0 when the queue handed the tasks out highest first. Rejects on the
   * first other outcome.
   */
  readonly done: Promise<number>;
}

/** Submits one no-op task per entry of `priorities`, all with one shared callback. */
function submitAll(processor: Processor, priorities: Uint8Array, skip: number): Batch {
  const total = priorities.length;
  let ended = 0;
  let last = Number.POSITIVE_INFINITY;
  let inversions = 0;
  let settle!: (inversions: number) => void;
  let fail!: (error: Error) => void;
  const done = new Promise<number>((resolve, reject) => {
    settle = resolve;
    fail = reject;
  });
  // One function for all tasks: the callback is the cheapest way the public
  // API reports a result (as in contenders/troupe.ts), without a closure each.
  const callback = (result: TaskResult): void => {
    if (result.status !== 'done') {
      fail(result.status === 'failed' ? result.error : new Error(`task cancelled: ${result.reason}`));
      return;
    }
    if (ended++ > skip && result.priority > last) inversions++;
    last = result.priority;
    if (ended === total) settle(inversions);
  };
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    processor.submit({ handler: 'noop', payload: i, priority: priorities[i], callback });
  }
  return { submitMs: performance.now() - start, done };
}

/** Waits until the blocker runs in the thread, so every task submitted after it waits. */
async function started(processor: Processor, id: string): Promise<void> {
  const deadline = performance.now() + 10_000;
  while (!processor.isProcessing(id)) {
    if (performance.now() > deadline) throw new Error('the blocker did not start within 10 s');
    await tick();
  }
}

export const priority: Scenario = {
  id: 'priority',
  title: '8. Priority queue',
  caption: () =>
    `One thread (\`workers: 1\`, \`window: ${WINDOW}\`) held by a blocker while ${WAITING.toLocaleString('en')} no-op tasks are submitted, after ${WARMUP.toLocaleString('en')} untimed; ` +
    `then the blocker is cancelled and the clock runs until the last result is in. \`troupe\`: priorities drawn from ${LEVELS} levels (fixed pseudo-random sequence); \`troupe-flat\`: all at one priority. ` +
    'µs per task to drain the queue, and µs per `submit` while the queue fills; lower is better. Troupe only: piscina, tinypool, workerpool and raw threads have no task priorities.',
  contenders: ['troupe', 'troupe-flat'],
  subjects: ['troupe'],
  metrics: [
    { key: 'usPerTask', label: 'µs/task', better: 'lower', digits: 2, compare: 'ratio' },
    { key: 'submitUs', label: 'submit µs', better: 'lower', digits: 2, compare: 'ratio' },
  ],
  rounds: (r) => r,
  timeoutMs: 60_000,
  async run(contender) {
    const count = levels(contender);
    // Imported here, not at the top: every child imports this module, and
    // only a Troupe child may load Troupe.
    const { createProcessor } = await import('../contenders/troupe.js');
    const processor = createProcessor({ handlers: HANDLERS, workers: 1, window: WINDOW });
    try {
      phase('warm-up');
      await processor.ready;
      await submitAll(processor, draw(WARMUP, count), WARMUP).done;
      phase('fill');
      const blocker = processor.submit({ handler: 'hold', payload: null });
      await started(processor, blocker);
      // Drawn before the clock starts: the generator is not what is measured.
      const batch = submitAll(processor, draw(WAITING, count), 0);
      if (processor.getStatus().queued !== WAITING) {
        throw new Error(`expected ${WAITING} tasks queued behind the blocker, found ${processor.getStatus().queued}`);
      }
      phase('drain');
      const start = performance.now();
      processor.cancel(blocker, 'released');
      const inversions = await batch.done;
      const ms = performance.now() - start;
      if (inversions > 0) throw new Error(`${inversions} results came out of priority order: the queue is not what is being measured`);
      return { usPerTask: (ms * 1_000) / WAITING, submitUs: (batch.submitMs * 1_000) / WAITING, tasks: WAITING };
    } finally {
      // Nothing is left on success; after a failure, nothing waits to drain.
      phase('shutdown');
      await processor.shutdown({ drain: false, timeout: 1_000 });
    }
  },
};
