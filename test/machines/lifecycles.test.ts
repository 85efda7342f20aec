/**
 * The task lifecycles the supervisor runs: every task's machine stepped
 * through its compiled tables, with its delays (backoff, attempt timeout) on
 * the clock and each state it enters announced. That the tables behave as an
 * XState actor is task.model.test.ts's job; this checks the runner around
 * them: timers armed, fired and cleared as the machine asks.
 */
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';

import { TaskTimeoutError } from '../../src/errors/errors.js';
import type { TaskLifecycles } from '../../src/machines/lifecycles.js';
import { CompiledLifecycles } from '../../src/machines/lifecycles.js';
import { DEFAULTS } from '../../src/options/defaults.js';
import { settle } from '../helpers/index.js';

type Make = (clock: SimulatedClock, entered: string[]) => TaskLifecycles;

const implementations: Array<[string, Make]> = [
  [
    'CompiledLifecycles',
    (clock, entered) => new CompiledLifecycles(clock, { entered: (event) => entered.push(event.state), timer: (fire) => fire() }),
  ],
];

const input = { id: 't', handler: 'default', maxRetries: 1, timeout: 50, backoff: DEFAULTS.backoff, startDelay: undefined };

describe.each(implementations)('%s', (_name, make) => {
  it('runs a timeout, a backoff and a success on the clock', async () => {
    const clock = new SimulatedClock();
    const entered: string[] = [];
    const task = make(clock, entered).create(input);
    task.send({ type: 'task.dispatch' });
    clock.increment(49);
    await settle();
    expect(entered).toEqual(['scheduled', 'queued', 'processing']);
    clock.increment(1);
    await settle();
    expect(entered.at(-1)).toBe('retrying');
    expect(task.context.error).toBeInstanceOf(TaskTimeoutError);
    expect(task.context.retryDelay).toBe(100);
    clock.increment(100);
    await settle();
    expect(entered.at(-1)).toBe('queued');
    task.send({ type: 'task.dispatch' });
    task.send({ type: 'task.succeed', value: 7 });
    await settle();
    expect(entered).toEqual(['scheduled', 'queued', 'processing', 'retrying', 'queued', 'processing', 'done']);
    expect(task.context).toMatchObject({ attempts: 2, value: 7 });
    clock.increment(10_000); // the settled attempt's timeout must not fire
    await settle();
    expect(entered.at(-1)).toBe('done');
  });

  it('a cancelled task leaves no timer behind', async () => {
    const clock = new SimulatedClock();
    const entered: string[] = [];
    const task = make(clock, entered).create({ ...input, timeout: undefined });
    task.send({ type: 'task.dispatch' });
    task.send({ type: 'task.fail', error: new Error('x') });
    task.send({ type: 'task.cancel', reason: 'stop' });
    clock.increment(60_000);
    await settle();
    expect(entered).toEqual(['scheduled', 'queued', 'processing', 'retrying', 'cancelled']);
    task.send({ type: 'task.dispatch' }); // a finished lifecycle ignores events
    expect(entered.at(-1)).toBe('cancelled');
  });

  it('keeps tasks apart: each task its own snapshot and timers', async () => {
    const clock = new SimulatedClock();
    const entered: string[] = [];
    const lifecycles = make(clock, entered);
    const a = lifecycles.create({ ...input, id: 'a', timeout: undefined });
    const b = lifecycles.create({ ...input, id: 'b', timeout: undefined });
    a.send({ type: 'task.dispatch' });
    b.send({ type: 'task.dispatch' });
    a.send({ type: 'task.fail', error: new Error('a') });
    b.send({ type: 'task.succeed', value: 'b' });
    clock.increment(100);
    await settle();
    expect(a.context).toMatchObject({ id: 'a', attempts: 1 });
    expect(b.context).toMatchObject({ id: 'b', value: 'b' });
    expect(entered.filter((state) => state === 'queued')).toHaveLength(3);
  });
});
