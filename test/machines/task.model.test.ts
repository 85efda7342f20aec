/**
 * A model-based test of the task machine: every sequence of events up to a
 * depth (exhaustively), and thousands of longer random ones. Each sequence
 * runs twice, on the compiled tables the processor uses and on a real XState
 * actor, which must agree step by step (state, context, every state entered,
 * every timer); and whatever happens, a task reaches at most one final state
 * and nothing after it, attempts never exceed maxRetries + 1, and a cancel
 * from any unfinished state ends it cancelled.
 */
import { describe, expect, it } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';

import { CompiledLifecycles } from '../../src/machines/lifecycles.js';
import { type TaskContext, type TaskEvent, taskMachine, type TaskMachineInput } from '../../src/machines/task.js';
import { DEFAULTS } from '../../src/options/defaults.js';
import type { TaskState } from '../../src/task/types.js';

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
const INPUTS: TaskMachineInput[] = [
  { id: 't', handler: 'h', maxRetries: MAX_RETRIES, timeout: 50, backoff: DEFAULTS.backoff, startDelay: undefined },
  { id: 't', handler: 'h', maxRetries: MAX_RETRIES, timeout: undefined, backoff: DEFAULTS.backoff, startDelay: undefined },
  // A delayed task: scheduled until the first `time.passes`.
  { id: 't', handler: 'h', maxRetries: MAX_RETRIES, timeout: 50, backoff: DEFAULTS.backoff, startDelay: 500 },
];

/** When each pending timer of a clock is due (an infinite delay is never armed, so it is left out). */
function pending(clock: SimulatedClock): string {
  const timeouts = (clock as unknown as { timeouts: Map<number, { start: number; timeout: number }> }).timeouts;
  const due: number[] = [];
  for (const { start, timeout } of timeouts.values()) if (timeout !== Infinity) due.push(start + timeout);
  return due.sort((a, b) => a - b).join(',');
}

/** What two evaluations must agree on; errors are compared by class and message (each makes its own timeout error). */
function describeState(state: string, context: TaskContext): string {
  const { attempts, retryDelay, reason, value, error } = context;
  return `${state} a=${attempts} d=${retryDelay} r=${reason} v=${String(value)} e=${error?.name}:${error?.message}`;
}

function run(steps: readonly Step[], input: TaskMachineInput): { entered: TaskState[]; attempts: number[] } {
  const clock = new SimulatedClock();
  const entered: TaskState[] = [];
  const compiledLog: string[] = [];
  const lifecycles = new CompiledLifecycles(clock, {
    entered: (event) => {
      entered.push(event.state);
      compiledLog.push(describeState(event.state, event.context));
    },
    timer: (fire) => fire(),
  });
  const task = lifecycles.create(input);

  const actorClock = new SimulatedClock();
  const actorLog: string[] = [];
  const actor = createActor(taskMachine, { input, clock: actorClock });
  actor.on('task.entered', (event) => actorLog.push(describeState(event.state, event.context)));
  actor.start();

  // Compared by hand, with `expect` only to report a difference: 80,000
  // sequences make an `expect` per step the test's main cost.
  const agree = () => {
    const snapshot = actor.getSnapshot();
    const ours = `${describeState(String(snapshot.value), task.context)} timers=${pending(clock)}`;
    const theirs = `${describeState(String(snapshot.value), snapshot.context)} timers=${pending(actorClock)}`;
    const finished = FINAL.has(entered.at(-1) as TaskState);
    const same = compiledLog.length === actorLog.length && compiledLog.every((line, i) => line === actorLog[i]);
    if (ours !== theirs || !same || finished !== (snapshot.status === 'done')) {
      expect({ ours, log: compiledLog, finished }).toEqual({ ours: theirs, log: actorLog, finished: snapshot.status === 'done' });
    }
  };
  agree();
  const attempts = [task.context.attempts];
  for (const step of steps) {
    const before = entered.length;
    const wasFinal = FINAL.has(entered.at(-1) as TaskState);
    if (step.type === 'time.passes') {
      clock.increment(60_000);
      actorClock.increment(60_000);
    } else {
      task.send(step);
      // A finished actor ignores events too, but warns about each.
      if (actor.getSnapshot().status === 'active') actor.send(step);
    }
    agree();
    attempts.push(task.context.attempts);
    if (step.type === 'task.cancel' && !wasFinal) expect(entered.at(-1)).toBe('cancelled');
    if (wasFinal) expect(entered.length).toBe(before);
  }
  actor.stop();
  return { entered, attempts };
}

function check(steps: readonly Step[]): void {
  for (const input of INPUTS) {
    const { entered, attempts } = run(steps, input);
    const finals = entered.filter((state) => FINAL.has(state));
    expect(finals.length).toBeLessThanOrEqual(1);
    if (finals.length === 1) expect(FINAL.has(entered.at(-1) as TaskState)).toBe(true);
    expect(Math.max(...attempts)).toBeLessThanOrEqual(MAX_RETRIES + 1);
    expect(entered[0]).toBe('scheduled');
    if (input.startDelay === undefined) expect(entered[1]).toBe('queued');
  }
}

describe('task machine, model-based', () => {
  // Exhaustive and CPU-bound (about 19 s alone): bounded at 60 s, since it shares two cores with another test file.
  it('holds its invariants on every event sequence up to 5 steps', { timeout: 60_000 }, () => {
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
