/**
 * A thread's window: tasks waiting in a thread behind the ones it runs. They
 * are still `queued` until the thread starts them, their timeout runs from
 * then, they can be cancelled or taken back there, and a thread that dies
 * with several attempts makes each of them a suspect that runs alone.
 */
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';

import { InvalidOptionError, PoisonTaskError, type Processor, type ProcessorEvent } from '../../src/index.js';
import { nextEvent, useProcessor } from '../helpers/index.js';

const make = useProcessor({ workers: 1, window: 4 });

function record(p: Processor): ProcessorEvent[] {
  const events: ProcessorEvent[] = [];
  p.events.subscribe((event) => events.push(event));
  return events;
}

describe('window', () => {
  it('is validated', () => {
    expect(() => make({ window: -1 })).toThrow(InvalidOptionError);
    expect(() => make({ window: 1.5 })).toThrow(/`window`.*non-negative integer/);
  });

  it('a waiting task is queued, and its timeout starts only when its thread starts it', async () => {
    const clock = new SimulatedClock();
    const p = make({ clock });
    await p.ready;
    const started = nextEvent(p.events, 'task.started', (event) => event.id === 'blocker');
    const blocker = p.submit({ id: 'blocker', handler: 'waitForAbort', payload: null });
    // Sent to the thread's window behind the blocker, with a limit far shorter than its wait.
    const waiting = p.submit({ id: 'waiting', payload: 'ok', timeout: 50 });
    await started;
    const stuck = p.result(waiting);
    expect(p.getTask(waiting)?.state).toBe('queued');
    clock.increment(1_000); // far past the waiting task's limit, had it been running
    expect(p.getTask(waiting)?.state).toBe('queued');
    p.cancel(blocker);
    expect(await stuck).toMatchObject({ status: 'done', value: 'ok', attempts: 1 });
  });

  it('a cancelled waiting task never starts', async () => {
    const p = make();
    const events = record(p);
    const started = nextEvent(p.events, 'task.started', (event) => event.id === 'blocker');
    const blocker = p.submit({ id: 'blocker', handler: 'waitForAbort', payload: null });
    // Had it ever run, it would have ended its thread.
    const waiting = p.submit({ id: 'waiting', handler: 'exitAlways', payload: null });
    await started;
    p.cancel(waiting);
    expect(await p.result(waiting)).toMatchObject({ status: 'cancelled', attempts: 0 });
    p.cancel(blocker);
    await p.result(blocker);
    // One more task runs on the same thread after it: the cancelled one was dropped there.
    expect(await p.result(p.submit({ payload: 'after' }))).toMatchObject({ status: 'done' });
    expect(events.filter((event) => event.type === 'worker.exited')).toEqual([]);
  });

  it('work waiting behind a long task is taken back by a thread that runs dry', async () => {
    const p = make({ workers: 2, window: 8 });
    await p.ready;
    const events = record(p);
    // Round-robin puts every other task behind the blocker; the other thread
    // finishes its share and takes the rest back.
    const blocker = p.submit({ id: 'blocker', handler: 'waitForAbort', payload: null });
    const quick = Array.from({ length: 12 }, (_, i) => p.submit({ id: `quick-${i}`, payload: i }));
    const results = await Promise.all(quick.map((id) => p.result(id)));
    expect(results.every((result) => result.status === 'done')).toBe(true);
    expect(p.getTask(blocker)?.state).toBe('processing');
    const blockerThread = events.find((event) => event.type === 'task.started' && event.id === blocker);
    const ranBeside = events.filter(
      (event) =>
        event.type === 'task.started' &&
        event.id !== blocker &&
        blockerThread?.type === 'task.started' &&
        event.workerId === blockerThread.workerId,
    );
    expect(ranBeside).toEqual([]);
    p.cancel(blocker);
  });

  it('a thread that dies holding several attempts: each runs alone, and only the culprit is charged', async () => {
    const p = make({ backoff: { delay: 0 }, restart: { minDelay: 0 } });
    await p.ready;
    const culprit = p.submit({ id: 'culprit', handler: 'exitOnFirst', payload: null });
    const others = Array.from({ length: 4 }, (_, i) => p.submit({ id: `other-${i}`, payload: i }));
    expect(await p.result(culprit)).toMatchObject({ status: 'done', attempts: 2 });
    for (const result of await Promise.all(others.map((id) => p.result(id)))) {
      expect(result).toMatchObject({ status: 'done', attempts: 1 });
    }
  });

  it('a thread reserved for a crash suspect takes work again once no suspect waits', { timeout: 10_000 }, async () => {
    // The crashed thread's replacement waits on the simulated clock: only the other thread can run anything.
    const p = make({ workers: 2, concurrency: 2, clock: new SimulatedClock() });
    await p.ready;
    const started = nextEvent(p.events, 'task.started', (event) => event.id === 'holder');
    const exited = nextEvent(p.events, 'worker.exited');
    // Round-robin: the bystander and the culprit on the first thread, the holder on the second.
    p.submit({ id: 'bystander', handler: 'waitForAbort', payload: null });
    p.submit({ id: 'holder', handler: 'waitForAbort', payload: null });
    p.submit({ id: 'culprit', handler: 'exitAlways', payload: null });
    await Promise.all([started, exited]);
    // Both are suspects, waiting for an empty thread: the holder's is reserved for them.
    expect(p.getTask('bystander')).toMatchObject({ state: 'queued', waitingFor: 'emptyThread' });
    p.cancel('bystander');
    p.cancel('culprit');
    p.cancel('holder');
    await p.result('holder');
    // No suspect is left to run alone there: the thread runs the next task.
    expect(await p.result(p.submit({ id: 'after', payload: 'ran' }))).toMatchObject({ status: 'done', value: 'ran' });
  });

  it('a poison task among others ends PoisonTaskError; the others finish uncharged', async () => {
    const p = make({ backoff: { delay: 0 }, restart: { minDelay: 0 }, maxCrashes: 2 });
    await p.ready;
    const poison = p.submit({ id: 'poison', handler: 'exitAlways', payload: null });
    const others = Array.from({ length: 4 }, (_, i) => p.submit({ id: `other-${i}`, payload: i }));
    const result = await p.result(poison);
    expect(result.status).toBe('failed');
    if (result.status === 'failed') expect(result.error).toBeInstanceOf(PoisonTaskError);
    for (const other of await Promise.all(others.map((id) => p.result(id)))) {
      expect(other).toMatchObject({ status: 'done', attempts: 1 });
    }
  });
});
