/**
 * Priorities hold with the default options, windows included: a waiting task
 * never starts after a lower-priority one that was waiting with it, on any
 * thread; equal priorities keep their order. And `getTask(id).waitingFor`
 * says, for every queued task, why it has not started.
 */
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';

import type { Processor } from '../../src/index.js';
import { nextEvent, nextEvents, settle, useProcessor } from '../helpers/index.js';

const make = useProcessor({ workers: 1 });

/** The ids of `count` tasks in the order they start. */
function starts(p: Processor, count: number, only?: ReadonlySet<string>): Promise<string[]> {
  const order: string[] = [];
  return new Promise((resolve) => {
    const subscription = p.events.subscribe((event) => {
      if (event.type !== 'task.started' || (only && !only.has(event.id))) return;
      order.push(event.id);
      if (order.length === count) {
        subscription.unsubscribe();
        resolve(order);
      }
    });
  });
}

/** Submits a task that holds its thread's one run slot until it is cancelled; resolves once it runs. */
async function block(p: Processor, id: string): Promise<string> {
  const started = nextEvent(p.events, 'task.started', (event) => event.id === id);
  p.submit({ id, handler: 'waitForAbort', payload: null });
  await started;
  return id;
}

const MIX = [
  ['l1', 0],
  ['h1', 10],
  ['l2', 0],
  ['m1', 5],
  ['h2', 10],
  ['l3', 0],
] as const;

describe('priorities with the default window', () => {
  it('one busy thread: tasks submitted behind it start highest first, in submission order within a priority', async () => {
    const p = make();
    await p.ready;
    const blocker = await block(p, 'blocker');
    const order = starts(p, MIX.length);
    for (const [id, priority] of MIX) p.submit({ id, payload: id, priority });
    p.cancel(blocker);
    expect(await order).toEqual(['h1', 'h2', 'm1', 'l1', 'l2', 'l3']);
  });

  it('a higher priority submitted later takes the place of lower ones already sent to the thread', async () => {
    const p = make();
    await p.ready;
    const blocker = await block(p, 'blocker');
    const order = starts(p, 5);
    for (const id of ['l1', 'l2', 'l3']) p.submit({ id, payload: id });
    // They are in the thread's window now, behind the blocker.
    await settle();
    expect(p.getTask('l1')).toMatchObject({ state: 'queued', waitingFor: 'slot' });
    p.submit({ id: 'h1', payload: 'h1', priority: 10 });
    await settle();
    p.submit({ id: 'm1', payload: 'm1', priority: 5 });
    p.cancel(blocker);
    expect(await order).toEqual(['h1', 'm1', 'l1', 'l2', 'l3']);
  });

  it('several busy threads: no task starts while a higher one waits', async () => {
    const p = make({ workers: 2 });
    await p.ready;
    // Both threads held, so everything below waits in windows or in line.
    const blockers = await Promise.all([block(p, 'blocker-a'), block(p, 'blocker-b')]);
    const priorities = [0, 3, 1, 3, 0, 2, 1, 3, 2, 0, 1, 2, 3, 0, 2, 1];
    const ids = priorities.map((priority, i) => `t${i}-p${priority}`);
    const order = starts(p, ids.length, new Set(ids));
    ids.forEach((id, i) => p.submit({ id, payload: id, priority: priorities[i] }));
    for (const blocker of blockers) p.cancel(blocker);
    const started = (await order).map((id) => Number(id.slice(id.indexOf('-p') + 2)));
    expect(started).toEqual([...started].sort((a, b) => b - a));
  });

  it('a retry re-enters at its priority, ahead of lower tasks that were sent to the thread meanwhile', async () => {
    const clock = new SimulatedClock();
    const p = make({ clock, backoff: { delay: 100 } });
    await p.ready;
    const blocker = await block(p, 'blocker');
    p.submit({ id: 'h', handler: 'flaky', payload: { succeedOn: 2 }, priority: 10 });
    p.submit({ id: 'l1', handler: 'waitForAbort', payload: null });
    for (const id of ['l2', 'l3', 'l4']) p.submit({ id, payload: id });
    const retrying = nextEvent(p.events, 'task.retrying', (event) => event.id === 'h');
    const l1 = nextEvent(p.events, 'task.started', (event) => event.id === 'l1');
    p.cancel(blocker);
    // h's first attempt fails; l1 then holds the thread, and l2..l4 wait behind it in its window.
    await retrying;
    await l1;
    await settle();
    expect(p.getTask('l2')).toMatchObject({ state: 'queued', waitingFor: 'slot' });
    const order = starts(p, 4);
    clock.increment(100); // h's backoff ends: it is queued again, above the windowed ones
    expect(p.getTask('h')?.state).toBe('queued');
    await settle();
    p.cancel('l1');
    expect(await order).toEqual(['h', 'l2', 'l3', 'l4']);
    expect(await p.result('h')).toMatchObject({ status: 'done', attempts: 2 });
  });
});

describe('getTask(id).waitingFor', () => {
  it('names the ready queue, and a worker whose window holds the task', async () => {
    const p = make({ window: 1 });
    await p.ready;
    const blocker = await block(p, 'blocker');
    p.submit({ id: 'in-window', payload: 1 });
    p.submit({ id: 'in-line', payload: 2 });
    await settle();
    const workerId = p.getTask(blocker)?.workerId;
    expect(workerId).toBeTypeOf('number');
    expect(p.getTask('in-window')).toMatchObject({ state: 'queued', waitingFor: 'slot', workerId, blockedBy: undefined });
    expect(p.getTask('in-line')).toMatchObject({ state: 'queued', waitingFor: 'thread', workerId: undefined });
    p.cancel(blocker);
    expect(await p.result('in-line')).toMatchObject({ status: 'done' });
    expect(p.getTask('in-line')).toMatchObject({ state: 'done', waitingFor: undefined });
  });

  it('names each handler limit', async () => {
    const clock = new SimulatedClock();
    const p = make({
      clock,
      workers: 2,
      rateLimit: { perHandler: { sleep: { max: 1, interval: 1_000 } } },
      handlerConcurrency: { waitForAbort: 1 },
    });
    await p.ready;
    await block(p, 'held-1');
    p.submit({ id: 'held-2', handler: 'waitForAbort', payload: null });
    const first = nextEvent(p.events, 'task.started', (event) => event.id === 'slow-1');
    p.submit({ id: 'slow-1', handler: 'sleep', payload: { ms: 1 } });
    await first;
    p.submit({ id: 'slow-2', handler: 'sleep', payload: { ms: 1 } });
    expect(p.getTask('held-2')).toMatchObject({ waitingFor: 'handlerConcurrency', blockedBy: 'handlerConcurrency' });
    expect(p.getTask('slow-2')).toMatchObject({ waitingFor: 'handlerRateLimit', blockedBy: 'rateLimit' });
  });

  it('names the processor-wide rate limit', async () => {
    const p = make({ clock: new SimulatedClock(), rateLimit: { max: 1, interval: 1_000 } });
    await p.ready;
    const ran = nextEvent(p.events, 'task.done', (event) => event.id === 'first');
    p.submit({ id: 'first', payload: 1 });
    await ran;
    p.submit({ id: 'second', payload: 2 });
    expect(p.getTask('second')).toMatchObject({ state: 'queued', waitingFor: 'rateLimit', blockedBy: 'rateLimit' });
  });

  it('names a crash suspect waiting for an empty thread', async () => {
    // The crashed thread's replacement waits on the simulated clock: nothing is empty meanwhile.
    const clock = new SimulatedClock();
    const p = make({ clock, concurrency: 2 });
    await p.ready;
    const bystander = await block(p, 'bystander');
    const exited = nextEvent(p.events, 'worker.exited');
    p.submit({ id: 'culprit', handler: 'exitAlways', payload: null });
    await exited;
    expect(p.getTask(bystander)).toMatchObject({ state: 'queued', waitingFor: 'emptyThread', workerId: undefined });
  });

  it('names an earlier attempt of the same id that is still stopping', async () => {
    const clock = new SimulatedClock();
    // The handler ignores its signal: its timed-out attempt runs on, and the retry must wait for it.
    const p = make({ clock, backoff: { delay: 0 } });
    await p.ready;
    const started = nextEvent(p.events, 'task.started', (event) => event.id === 'slow');
    p.submit({ id: 'slow', handler: 'sleep', payload: { ms: 60_000 }, timeout: 50 });
    await started;
    const queued = nextEvents(p.events, 'task.queued', 1);
    clock.increment(50);
    await queued;
    expect(p.getTask('slow')).toMatchObject({ state: 'queued', attempts: 1, waitingFor: 'previousAttempt' });
  });
});
