/** Restarting crashed threads: backoff, intensity, poison tasks, resource limits. */
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';

import { PoisonTaskError, type ProcessorEvent, RestartIntensityError, WorkerCrashedError } from '../../src/index.js';
import { nextEvent, nextEvents, useProcessor } from '../helpers/index.js';

const make = useProcessor({ workers: 1, backoff: { delay: 0 } });

describe('restarts', () => {
  it('wait longer after each crash: 100 ms, then 200 ms', async () => {
    const clock = new SimulatedClock();
    const p = make({ clock, restart: { jitter: 0 }, maxCrashes: 10, backoff: { delay: 0 } });
    await p.ready;
    const started: ProcessorEvent[] = [];
    p.events.subscribe((event) => event.type === 'worker.started' && started.push(event));
    p.submit({ id: 'boom', handler: 'exitAlways', payload: null, maxRetries: 5 });
    await nextEvent(p.events, 'worker.exited');
    clock.increment(99);
    expect(started).toHaveLength(0);
    const first = nextEvent(p.events, 'worker.started');
    clock.increment(1);
    await first;
    // The retry (no backoff) crashes the new thread at once.
    await nextEvent(p.events, 'worker.exited');
    clock.increment(199);
    expect(started).toHaveLength(1);
    const second = nextEvent(p.events, 'worker.started');
    clock.increment(1);
    await second;
    p.cancel('boom');
  });

  it('past maxRestarts within the window, the processor stops restarting, refuses submits, and keeps its queue', async () => {
    const p = make({ restart: { maxRestarts: 2, minDelay: 0, jitter: 0 }, maxCrashes: 10 });
    await p.ready;
    const failed = nextEvent(p.events, 'processor.error');
    for (const id of ['boom1', 'boom2', 'boom3']) p.submit({ id, handler: 'exitAlways', payload: id, maxRetries: 10 });
    const { error } = await failed;
    expect(error).toBeInstanceOf(RestartIntensityError);
    expect(error).toMatchObject({ code: 'ERR_RESTART_INTENSITY', maxRestarts: 2 });
    expect(p.getStatus()).toMatchObject({ state: 'error' });
    expect(() => p.submit({ payload: 1 })).toThrow(RestartIntensityError);
    // Three crashes, one per task's first attempt: every task is still waiting, none was dropped.
    const { unfinished } = await p.shutdown({ timeout: 0 });
    expect(unfinished.map((task) => task.id).sort()).toEqual(['boom1', 'boom2', 'boom3']);
    expect(unfinished.find((task) => task.id === 'boom2')).toMatchObject({ payload: 'boom2', handler: 'exitAlways' });
  });
});

describe('poison tasks', () => {
  it('a task that crashes its thread maxCrashes times fails with PoisonTaskError', async () => {
    const p = make({ maxCrashes: 2, restart: { minDelay: 0 } });
    const result = await p.result(p.submit({ id: 'poison', handler: 'exitAlways', payload: null, maxRetries: 5 }));
    expect(result).toMatchObject({ status: 'failed', attempts: 2 });
    if (result.status !== 'failed') throw new Error('expected failed');
    expect(result.error).toBeInstanceOf(PoisonTaskError);
    expect(result.error).toMatchObject({ code: 'ERR_POISON_TASK', crashes: 2 });
    expect(result.error.cause).toBeInstanceOf(WorkerCrashedError);
    // The pool is back to strength for the next task.
    expect(await p.result(p.submit({ payload: 'fine' }))).toMatchObject({ status: 'done' });
  });
});

describe('a thread stopped for one attempt', () => {
  it('puts the other attempts it ran back in the queue, not charged', async () => {
    const clock = new SimulatedClock();
    const p = make({ clock, concurrency: 2, abortGrace: 500, maxRetries: 0, restart: { jitter: 0 } });
    await p.ready;
    const started = nextEvents(p.events, 'task.started', 2);
    p.submit({ id: 'bystander', handler: 'waitForAbort', payload: null });
    p.submit({ id: 'spin', handler: 'spinForever', payload: null, timeout: 50 });
    await started;
    clock.increment(50); // spin times out: aborted, ignores it
    expect(await p.result('spin')).toMatchObject({ status: 'failed' });
    const exited = nextEvent(p.events, 'worker.exited');
    clock.increment(500); // grace over: the thread is terminated
    await exited;
    expect(p.getTask('bystander')).toMatchObject({ state: 'queued', attempts: 0 });
    const again = nextEvent(p.events, 'task.started', (event) => event.id === 'bystander');
    clock.increment(100); // the restart backoff
    expect(await again).toMatchObject({ attempt: 1 });
    p.cancel('bystander');
  });
});

describe('resourceLimits', () => {
  it('are passed to the threads: one that runs out of memory crashes, is reported, and is replaced', async () => {
    const p = make({ resourceLimits: { maxOldGenerationSizeMb: 16 }, maxCrashes: 1, restart: { minDelay: 0 } });
    const exited = nextEvent(p.events, 'worker.exited');
    const result = await p.result(p.submit({ handler: 'allocateForever', payload: null }));
    expect(result.status).toBe('failed');
    const crash = (result as { error: Error }).error.cause as WorkerCrashedError;
    expect(crash).toBeInstanceOf(WorkerCrashedError);
    expect(crash.cause).toMatchObject({ code: 'ERR_WORKER_OUT_OF_MEMORY' });
    expect((await exited).error).toMatchObject({ code: 'ERR_WORKER_OUT_OF_MEMORY' });
    expect(await p.result(p.submit({ payload: 'after' }))).toMatchObject({ status: 'done' });
  });
});

describe('status', () => {
  it('reports the processor state', async () => {
    const p = make();
    await p.ready;
    expect(p.getStatus().state).toBe('running');
    const stopping = p.shutdown();
    expect(p.getStatus()).toMatchObject({ state: 'stopped', shutdown: true });
    await stopping;
  });
});
