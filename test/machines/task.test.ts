import { describe, expect, it } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';

import { TaskTimeoutError } from '../../src/errors/errors.js';
import { backoffDelay } from '../../src/machines/backoff.js';
import { type TaskEntered, taskMachine, type TaskMachineInput } from '../../src/machines/task.js';
import { DEFAULTS } from '../../src/options/defaults.js';

function start(input: Partial<TaskMachineInput> = {}) {
  const clock = new SimulatedClock();
  const actor = createActor(taskMachine, {
    clock,
    input: { id: 't', handler: 'default', maxRetries: 3, timeout: undefined, backoff: DEFAULTS.backoff, startDelay: undefined, ...input },
  });
  const entered: string[] = [];
  actor.on('task.entered', (event: TaskEntered) => entered.push(event.state));
  actor.start();
  const state = () => {
    const { value } = actor.getSnapshot();
    return typeof value === 'string' ? value : Object.keys(value)[0];
  };
  return { actor, clock, entered, state, context: () => actor.getSnapshot().context };
}

const boom = () => new Error('boom');

describe('task machine', () => {
  it('starts queued and runs queued → processing → done', () => {
    const { actor, state, context, entered } = start();
    expect(state()).toBe('queued');
    actor.send({ type: 'task.dispatch' });
    expect(state()).toBe('processing');
    expect(context().attempts).toBe(1);
    actor.send({ type: 'task.succeed', value: 42 });
    expect(state()).toBe('done');
    expect(actor.getSnapshot().status).toBe('done');
    expect(context().value).toBe(42);
    expect(entered).toEqual(['scheduled', 'queued', 'processing', 'done']);
  });

  it('a delayed task waits scheduled on the clock, then queues; a cancel there leaves no timer', () => {
    const { actor, clock, state, entered } = start({ startDelay: 500 });
    expect(state()).toBe('scheduled');
    actor.send({ type: 'task.dispatch' }); // not yet
    clock.increment(499);
    expect(state()).toBe('scheduled');
    clock.increment(1);
    expect(state()).toBe('queued');
    expect(entered).toEqual(['scheduled', 'queued']);
    const cancelled = start({ startDelay: 500 });
    cancelled.actor.send({ type: 'task.cancel' });
    expect(cancelled.state()).toBe('cancelled');
    cancelled.clock.increment(1_000);
    expect(cancelled.entered).toEqual(['scheduled', 'cancelled']);
  });

  it('ignores results while not processing', () => {
    const { actor, state } = start();
    actor.send({ type: 'task.succeed', value: 1 });
    actor.send({ type: 'task.fail', error: boom() });
    expect(state()).toBe('queued');
  });

  it('retries after the backoff delay: 100, 200, 400 ms', () => {
    const { actor, clock, state, context } = start({ maxRetries: 3 });
    for (const wait of [100, 200, 400]) {
      actor.send({ type: 'task.dispatch' });
      actor.send({ type: 'task.fail', error: boom() });
      expect(state()).toBe('retrying');
      expect(context().retryDelay).toBe(wait);
      clock.increment(wait - 1);
      expect(state()).toBe('retrying');
      clock.increment(1);
      expect(state()).toBe('queued');
    }
    expect(context().attempts).toBe(3);
  });

  it('fails once maxRetries retries have failed, keeping the last error', () => {
    const { actor, clock, state, context } = start({ maxRetries: 2 });
    for (let attempt = 1; attempt <= 3; attempt++) {
      actor.send({ type: 'task.dispatch' });
      actor.send({ type: 'task.fail', error: new Error(`failure ${attempt}`) });
      clock.increment(10_000);
    }
    expect(state()).toBe('failed');
    expect(context().attempts).toBe(3);
    expect(context().error?.message).toBe('failure 3');
  });

  it('fails at once when the failure is not retryable', () => {
    const { actor, state, context } = start({ maxRetries: 5 });
    actor.send({ type: 'task.dispatch' });
    actor.send({ type: 'task.fail', error: boom(), retryable: false });
    expect(state()).toBe('failed');
    expect(context().attempts).toBe(1);
  });

  it('with maxRetries 0 fails on the first failure', () => {
    const { actor, state } = start({ maxRetries: 0 });
    actor.send({ type: 'task.dispatch' });
    actor.send({ type: 'task.fail', error: boom() });
    expect(state()).toBe('failed');
  });

  it.each(['queued', 'processing', 'retrying'] as const)('cancels from %s with the reason', (from) => {
    const { actor, clock, state, context } = start();
    if (from !== 'queued') actor.send({ type: 'task.dispatch' });
    if (from === 'retrying') actor.send({ type: 'task.fail', error: boom() });
    expect(state()).toBe(from);
    actor.send({ type: 'task.cancel', reason: 'user asked' });
    expect(state()).toBe('cancelled');
    expect(context().reason).toBe('user asked');
    clock.increment(60_000); // a pending backoff must not revive it
    expect(state()).toBe('cancelled');
  });

  it('times an attempt out on the machine clock and treats it as a failure', () => {
    const { actor, clock, state, context } = start({ timeout: 50, maxRetries: 1 });
    actor.send({ type: 'task.dispatch' });
    clock.increment(49);
    expect(state()).toBe('processing');
    clock.increment(1);
    expect(state()).toBe('retrying');
    expect(context().error).toBeInstanceOf(TaskTimeoutError);
    expect((context().error as TaskTimeoutError).timeout).toBe(50);
    clock.increment(100);
    actor.send({ type: 'task.dispatch' });
    clock.increment(50);
    expect(state()).toBe('failed');
  });

  it('a settled attempt cancels its timeout', () => {
    const { actor, clock, state } = start({ timeout: 50 });
    actor.send({ type: 'task.dispatch' });
    actor.send({ type: 'task.succeed', value: 'ok' });
    clock.increment(1_000);
    expect(state()).toBe('done');
  });

  it('arms no timer without a timeout', () => {
    const { actor, clock, state } = start({ timeout: undefined });
    actor.send({ type: 'task.dispatch' });
    clock.increment(24 * 3_600_000);
    expect(state()).toBe('processing');
  });

  it('emits task.entered on every state, retry included', () => {
    const { actor, clock, entered } = start({ maxRetries: 1 });
    actor.send({ type: 'task.dispatch' });
    actor.send({ type: 'task.fail', error: boom() });
    clock.increment(100);
    actor.send({ type: 'task.dispatch' });
    actor.send({ type: 'task.succeed', value: 1 });
    expect(entered).toEqual(['scheduled', 'queued', 'processing', 'retrying', 'queued', 'processing', 'done']);
  });
});

describe('backoffDelay', () => {
  const backoff = { delay: 100, factor: 2, maxDelay: 1_000, jitter: 0 };

  it('grows by factor per retry', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, backoff))).toEqual([100, 200, 400, 800]);
  });

  it('is capped at maxDelay', () => {
    expect(backoffDelay(5, backoff)).toBe(1_000);
    expect(backoffDelay(50, backoff)).toBe(1_000);
  });

  it('spreads by ±jitter and never passes the cap', () => {
    const jittered = { ...backoff, jitter: 0.2 };
    expect(backoffDelay(2, jittered, () => 0)).toBe(160);
    expect(backoffDelay(2, jittered, () => 0.5)).toBe(200);
    expect(backoffDelay(2, jittered, () => 0.999_999)).toBe(240);
    expect(backoffDelay(10, jittered, () => 0.999_999)).toBe(1_000);
    for (let i = 0; i < 1_000; i++) {
      const wait = backoffDelay(3, jittered);
      expect(wait).toBeGreaterThanOrEqual(320);
      expect(wait).toBeLessThanOrEqual(480);
    }
  });
});
