/**
 * A model-based test of the task machine: every sequence of events up to a
 * depth (exhaustively, but for the events that change nothing: a sequence
 * that ends in one is not extended, since what follows it was walked from
 * the same state already), and thousands of longer random ones. Each
 * sequence runs twice, on the compiled tables the processor uses and on a
 * real XState actor, which must agree step by step (state and where a
 * queued task waits, context, every state entered, every timer); and
 * whatever happens, a task reaches at most one final state and nothing
 * after it, attempts never exceed maxRetries + 1, and a cancel from any
 * unfinished state ends it cancelled.
 */
import { describe, expect, it } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';

import { stateValue } from '../../src/machines/compile.js';
import { CompiledLifecycles } from '../../src/machines/lifecycles.js';
import { type TaskContext, type TaskEvent, taskMachine, type TaskMachineInput, type TaskMachineState } from '../../src/machines/task.js';
import { DEFAULTS } from '../../src/options/defaults.js';

type Step = TaskEvent | { type: 'time.passes' };

const STEPS: Step[] = [
  { type: 'task.dispatch' },
  { type: 'task.succeed', value: 1 },
  { type: 'task.fail', error: new Error('x') },
  { type: 'task.fail', error: new Error('x'), retryable: false },
  { type: 'task.cancel', reason: 'model' },
  { type: 'task.release' },
  { type: 'task.suspect' },
  { type: 'task.hold', limit: 'rateLimit' },
  { type: 'task.hold', limit: 'handlerConcurrency' },
  { type: 'task.admit' },
  { type: 'task.park' },
  { type: 'task.unpark' },
  { type: 'task.window' },
  { type: 'task.handBack', reason: 'shutdown' },
  { type: 'task.giveUp', error: new Error('threads') },
  { type: 'time.passes' }, // every pending backoff or timeout fires
];
const FINAL = new Set<TaskMachineState>(['done', 'failed', 'cancelled', 'handedBack']);
const MAX_RETRIES = 2;
const INPUTS: TaskMachineInput[] = [
  { id: 't', handler: 'h', maxRetries: MAX_RETRIES, timeout: 50, backoff: DEFAULTS.backoff, startDelay: undefined },
  { id: 't', handler: 'h', maxRetries: MAX_RETRIES, timeout: undefined, backoff: DEFAULTS.backoff, startDelay: undefined },
  // A delayed task: scheduled until the first `time.passes`.
  { id: 't', handler: 'h', maxRetries: MAX_RETRIES, timeout: 50, backoff: DEFAULTS.backoff, startDelay: 500 },
  // A stored task that runs isolated from the start.
  {
    id: 't',
    handler: 'h',
    maxRetries: MAX_RETRIES,
    timeout: undefined,
    backoff: DEFAULTS.backoff,
    startDelay: undefined,
    isolation: 'process',
  },
];

/** When each pending timer of a clock is due (an infinite delay is never armed, so it is left out). */
function pending(clock: SimulatedClock): string {
  const timeouts = (clock as unknown as { timeouts: Map<number, { start: number; timeout: number }> }).timeouts;
  const due: number[] = [];
  for (const { start, timeout } of timeouts.values()) if (timeout !== Infinity) due.push(start + timeout);
  return due.sort((a, b) => a - b).join(',');
}

/** What two evaluations must agree on; errors are compared by class and message (each makes its own timeout error). */
function describeState(state: unknown, context: TaskContext): string {
  const { attempts, retryDelay, reason, value, error, heldBy, isolation, handedBack, interrupted } = context;
  const where = `h=${heldBy} i=${isolation} b=${handedBack}/${interrupted}`;
  return `${JSON.stringify(state)} a=${attempts} d=${retryDelay} r=${reason} v=${String(value)} e=${error?.name}:${error?.message} ${where}`;
}

interface Run {
  entered: TaskMachineState[];
  attempts: number[];
  /** Whether the last step changed nothing: state, context and timers as before it. */
  idle: boolean;
}

function run(steps: readonly Step[], input: TaskMachineInput): Run {
  const clock = new SimulatedClock();
  const entered: TaskMachineState[] = [];
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
  const agree = (): string => {
    const snapshot = actor.getSnapshot();
    const ours = `${describeState(stateValue(task.state), task.context)} timers=${pending(clock)}`;
    const theirs = `${describeState(snapshot.value, snapshot.context)} timers=${pending(actorClock)}`;
    const finished = FINAL.has(entered.at(-1) as TaskMachineState);
    const same = compiledLog.length === actorLog.length && compiledLog.every((line, i) => line === actorLog[i]);
    if (ours !== theirs || !same || finished !== (snapshot.status === 'done')) {
      expect({ ours, log: compiledLog, finished }).toEqual({ ours: theirs, log: actorLog, finished: snapshot.status === 'done' });
    }
    return ours;
  };
  let now = agree();
  let idle = false;
  const attempts = [task.context.attempts];
  for (const step of steps) {
    const before = entered.length;
    const wasFinal = FINAL.has(entered.at(-1) as TaskMachineState);
    if (step.type === 'time.passes') {
      clock.increment(60_000);
      actorClock.increment(60_000);
    } else {
      task.send(step);
      // A finished actor ignores events too, but warns about each.
      if (actor.getSnapshot().status === 'active') actor.send(step);
    }
    const after = agree();
    idle = after === now && entered.length === before;
    now = after;
    attempts.push(task.context.attempts);
    if (step.type === 'task.cancel' && !wasFinal) expect(entered.at(-1)).toBe('cancelled');
    if (wasFinal) expect(entered.length).toBe(before);
  }
  actor.stop();
  return { entered, attempts, idle };
}

/** Checks a sequence on every input; returns whether its last step changed nothing on any of them. */
function check(steps: readonly Step[]): boolean {
  let idle = true;
  for (const input of INPUTS) {
    const { entered, attempts, idle: idleHere } = run(steps, input);
    idle &&= idleHere;
    const finals = entered.filter((state) => FINAL.has(state));
    expect(finals.length).toBeLessThanOrEqual(1);
    if (finals.length === 1) expect(FINAL.has(entered.at(-1) as TaskMachineState)).toBe(true);
    expect(Math.max(...attempts)).toBeLessThanOrEqual(MAX_RETRIES + 1);
    expect(entered[0]).toBe('scheduled');
    if (input.startDelay === undefined) expect(entered[1]).toBe('queued');
  }
  return idle;
}

describe('task machine, model-based', () => {
  // Exhaustive and CPU-bound: bounded at 60 s, since it shares two cores with another test file.
  it('holds its invariants on every event sequence up to 5 steps', { timeout: 60_000 }, () => {
    let paths = 0;
    let extended = 0;
    const walk = (prefix: Step[]): void => {
      const idle = check(prefix);
      paths++;
      // A step that changed nothing leaves the state its prefix walked from already.
      if (prefix.length === 5 || (prefix.length > 0 && idle)) return;
      extended++;
      for (const step of STEPS) walk([...prefix, step]);
    };
    walk([]);
    // Every sequence walked was extended by every event, or ended in one that changed nothing, or at the depth.
    expect(paths).toBe(1 + extended * STEPS.length);
    expect(extended).toBeGreaterThan(800);
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
