/**
 * A model-based test of the task machine: every sequence of events up to a
 * depth (exhaustively), and thousands of longer random ones, run on the same
 * evaluation the processor uses. Whatever happens, a task reaches at most one
 * final state and nothing after it, attempts never exceed maxRetries + 1, and
 * a cancel from any unfinished state ends it cancelled.
 */
import { SimulatedClock } from 'xstate';
import { describe, expect, it } from 'vitest';
import { ScopedLifecycles } from '../../src/actors/scoped-lifecycles.js';
import type { TaskEvent } from '../../src/machines/task.js';
import { DEFAULT_BACKOFF } from '../../src/options.js';
import type { TaskState } from '../../src/task.js';

type Step = TaskEvent | { type: 'time.passes' };

const STEPS: Step[] = [
  { type: 'task.dispatch' },
  { type: 'task.succeed', value: 1 },
  { type: 'task.fail', error: new Error('x') },
  { type: 'task.fail', error: new Error('x'), retryable: false },
  { type: 'task.cancel', reason: 'model' },
  { type: 'task.release' },
  { type: 'time.passes' }, // every pending backoff or timeout fires
];
const FINAL = new Set<TaskState>(['done', 'failed', 'cancelled']);
const MAX_RETRIES = 2;

function run(steps: readonly Step[]): { entered: TaskState[]; attempts: number[] } {
  const clock = new SimulatedClock();
  const entered: TaskState[] = [];
  const lifecycles = new ScopedLifecycles(clock, { entered: (event) => entered.push(event.state), timer: (fire) => fire() });
  const task = lifecycles.create({ id: 't', handler: 'h', maxRetries: MAX_RETRIES, timeout: 50, backoff: DEFAULT_BACKOFF });
  const attempts = [task.context.attempts];
  for (const step of steps) {
    const before = entered.length;
    const wasFinal = FINAL.has(entered.at(-1) as TaskState);
    if (step.type === 'time.passes') clock.increment(60_000);
    else task.send(step);
    attempts.push(task.context.attempts);
    if (step.type === 'task.cancel' && !wasFinal) expect(entered.at(-1)).toBe('cancelled');
    if (wasFinal) expect(entered.length).toBe(before);
  }
  return { entered, attempts };
}

function check(steps: readonly Step[]): void {
  const { entered, attempts } = run(steps);
  const finals = entered.filter((state) => FINAL.has(state));
  expect(finals.length).toBeLessThanOrEqual(1);
  if (finals.length === 1) expect(FINAL.has(entered.at(-1) as TaskState)).toBe(true);
  expect(Math.max(...attempts)).toBeLessThanOrEqual(MAX_RETRIES + 1);
  expect(entered[0]).toBe('queued');
}

describe('task machine, model-based', () => {
  it('holds its invariants on every event sequence up to 5 steps', () => {
    let paths = 0;
    const walk = (prefix: Step[]): void => {
      check(prefix);
      paths++;
      if (prefix.length === 5) return;
      for (const step of STEPS) walk([...prefix, step]);
    };
    walk([]);
    expect(paths).toBe((7 ** 6 - 1) / 6);
  });

  it('holds them on 3,000 random sequences of up to 40 steps', () => {
    let seed = 12_345;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 3_000; i++) {
      const length = 1 + Math.floor(random() * 40);
      check(Array.from({ length }, () => STEPS[Math.floor(random() * STEPS.length)] as Step));
    }
  });
});
