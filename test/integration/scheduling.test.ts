/** Priorities, and the order in which one thread runs what waits. */
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';

import { InvalidTaskError, type Processor, QueueFullError } from '../../src/index.js';
import { nextEvent, useProcessor } from '../helpers/index.js';

// One thread taking only what it can start: the queue's order is the run order.
const make = useProcessor({ workers: 1, window: 0 });

/** Starts a task that holds the only thread until it is cancelled. */
async function occupy(p: Processor): Promise<string> {
  await p.ready;
  const started = nextEvent(p.events, 'task.started');
  const id = p.submit({ id: 'blocker', handler: 'waitForAbort', payload: null });
  await started;
  return id;
}

function startOrder(p: Processor): string[] {
  const order: string[] = [];
  p.events.subscribe((event) => event.type === 'task.started' && event.id !== 'blocker' && order.push(event.id));
  return order;
}

describe('priority', () => {
  it('runs higher priorities first and keeps submission order within one', async () => {
    const p = make();
    const blocker = await occupy(p);
    const order = startOrder(p);
    const ids = [
      p.submit({ id: 'low-1', payload: 1, priority: -1 }),
      p.submit({ id: 'mid-1', payload: 1 }),
      p.submit({ id: 'high-1', payload: 1, priority: 5 }),
      p.submit({ id: 'mid-2', payload: 1, priority: 0 }),
      p.submit({ id: 'high-2', payload: 1, priority: 5 }),
      p.submit({ id: 'low-2', payload: 1, priority: -1 }),
      p.submit({ id: 'top', payload: 1, priority: 100 }),
    ];
    expect(p.getTask('high-1')).toMatchObject({ state: 'queued', priority: 5 });
    p.cancel(blocker);
    await Promise.all(ids.map((id) => p.result(id)));
    expect(order).toEqual(['top', 'high-1', 'high-2', 'mid-1', 'mid-2', 'low-1', 'low-2']);
    expect(p.getTask('top')).toMatchObject({ state: 'done', priority: 100 });
  });

  it('a retry re-enters the queue at its priority', async () => {
    const clock = new SimulatedClock();
    const p = make({ clock, backoff: { delay: 100, jitter: 0 } });
    const blocker = await occupy(p);
    const order = startOrder(p);
    const flaky = p.submit({ id: 'flaky', handler: 'flaky', payload: { succeedOn: 2 }, priority: 10 });
    // `hold` takes the thread while flaky waits out its backoff; `later` waits behind both.
    const holdStarted = nextEvent(p.events, 'task.started', (event) => event.id === 'hold');
    const hold = p.submit({ id: 'hold', handler: 'waitForAbort', payload: null });
    const later = p.submit({ id: 'later', payload: 1 });
    const retrying = nextEvent(p.events, 'task.retrying');
    p.cancel(blocker);
    await retrying;
    await holdStarted;
    clock.increment(100); // flaky is queued again, beside `later`
    p.cancel(hold);
    await Promise.all([flaky, later].map((id) => p.result(id)));
    expect(order).toEqual(['flaky', 'hold', 'flaky', 'later']);
  });

  it('must be an integer', () => {
    const p = make();
    expect(() => p.submit({ payload: 1, priority: 1.5 })).toThrow(InvalidTaskError);
    expect(() => p.submit({ payload: 1, priority: '1' as never })).toThrow(/`priority`/);
    expect(p.getStatus().queued).toBe(0);
  });
});

/** How many timers are pending on a simulated clock. */
function pendingTimers(clock: SimulatedClock): number {
  return (clock as unknown as { timeouts: Map<unknown, unknown> }).timeouts.size;
}

describe('delayed tasks', () => {
  it('wait scheduled, start no earlier than due, and in due order', async () => {
    const clock = new SimulatedClock();
    const p = make({ clock, window: 16, workers: 2 });
    await p.ready;
    const order = startOrder(p);
    const scheduled = nextEvent(p.events, 'task.scheduled', (event) => event.id === 'b');
    const ids = [
      p.submit({ id: 'c', payload: 'c', delay: 300 }),
      p.submit({ id: 'a', payload: 'a', delay: 100 }),
      p.submit({ id: 'b', payload: 'b', runAt: new Date(clock.now() + 200) }),
    ];
    expect(await scheduled).toMatchObject({ runAt: 200 });
    expect(p.getStatus()).toMatchObject({ scheduled: 3, queued: 0 });
    expect(p.getTask('a')).toMatchObject({ state: 'scheduled', runAt: 100 });
    clock.increment(99);
    expect(p.getStatus().scheduled).toBe(3);
    const a = p.result('a');
    clock.increment(1);
    expect(p.getTask('a')?.state).not.toBe('scheduled');
    await a;
    expect(order).toEqual(['a']);
    const b = p.result('b');
    clock.increment(100);
    await b;
    clock.increment(100);
    await Promise.all(ids.map((id) => p.result(id)));
    expect(order).toEqual(['a', 'b', 'c']);
  });

  it('a scheduled task can be cancelled, and never runs', async () => {
    const clock = new SimulatedClock();
    const p = make({ clock });
    const started = startOrder(p);
    const id = p.submit({ id: 'later', payload: 1, delay: 1_000 });
    p.cancel(id);
    expect(await p.result(id)).toMatchObject({ status: 'cancelled', attempts: 0 });
    clock.increment(2_000);
    expect(await p.result(p.submit({ payload: 2 }))).toMatchObject({ status: 'done' });
    expect(started).not.toContain('later');
    expect(pendingTimers(clock)).toBe(0);
  });

  it('100,000 delayed tasks hold one timer on the clock', async () => {
    const clock = new SimulatedClock();
    const p = make({ clock });
    await p.ready;
    for (let i = 0; i < 100_000; i++) p.submit({ payload: i, delay: 60_000 + (i % 1_000) });
    expect(p.getStatus().scheduled).toBe(100_000);
    expect(pendingTimers(clock)).toBe(1);
    await p.shutdown({ timeout: 0 });
  });

  it('a scheduled task handed back by shutdown keeps its due time', async () => {
    const clock = new SimulatedClock();
    const p = make({ clock });
    p.submit({ id: 'later', payload: 1, runAt: 5_000 });
    const { unfinished } = await p.shutdown({ timeout: 0 });
    expect(unfinished).toEqual([expect.objectContaining({ id: 'later', runAt: 5_000 })]);
  });

  it('refuses a bad delay or runAt, and both at once', () => {
    const p = make();
    expect(() => p.submit({ payload: 1, delay: -1 })).toThrow(/`delay`/);
    expect(() => p.submit({ payload: 1, delay: Number.NaN })).toThrow(InvalidTaskError);
    expect(() => p.submit({ payload: 1, runAt: new Date(Number.NaN) })).toThrow(/`runAt`/);
    expect(() => p.submit({ payload: 1, delay: 1, runAt: 1 })).toThrow(/at most one of `delay` and `runAt`/);
    expect(p.getStatus()).toMatchObject({ scheduled: 0, queued: 0 });
  });
});

describe('backpressure', () => {
  it('maxQueue refuses a task beyond it with QueueFullError and changes nothing', async () => {
    const p = make({ maxQueue: 2 });
    const blocker = await occupy(p); // running: does not count
    p.submit({ id: 'a', payload: 1 });
    p.submit({ id: 'b', payload: 2, delay: 10_000 });
    const before = p.getStatus();
    expect(() => p.submit({ id: 'c', payload: 3 })).toThrow(QueueFullError);
    expect(() => p.submit({ id: 'c', payload: 3 })).toThrow(expect.objectContaining({ code: 'ERR_QUEUE_FULL', maxQueue: 2 }));
    expect(p.getStatus()).toEqual(before);
    expect(p.getTask('c')).toBeUndefined();
    p.cancel('b');
    expect(p.submit({ id: 'c', payload: 3 })).toBe('c');
    p.cancel(blocker);
  });

  it('onSizeLessThan, onEmpty and onIdle resolve at once when already true, else when they become true', async () => {
    const p = make();
    await p.onIdle();
    await p.onEmpty();
    await p.onSizeLessThan(1);
    const blocker = await occupy(p);
    const seen: string[] = [];
    const ids = ['a', 'b', 'c'].map((id) => p.submit({ id, payload: id }));
    const below2 = p.onSizeLessThan(2).then(() => seen.push(`below2 with ${p.getStatus().queued} queued`));
    const empty = p.onEmpty().then(() => seen.push(`empty with ${p.getStatus().processing} processing`));
    const idle = p.onIdle().then(() => seen.push('idle'));
    await p.onSizeLessThan(4); // already true: 3 wait
    expect(seen).toEqual([]);
    p.cancel(blocker);
    await Promise.all([below2, empty, idle, ...ids.map((id) => p.result(id))]);
    expect(seen[0]).toBe('below2 with 1 queued');
    expect(seen.at(-1)).toBe('idle');
    expect(p.getStatus()).toMatchObject({ queued: 0, processing: 0 });
  });

  it('submitAsync waits for room, in order, and honours its signal', async () => {
    const p = make({ maxQueue: 1 });
    const blocker = await occupy(p);
    p.submit({ id: 'first', payload: 1 });
    const second = p.submitAsync({ id: 'second', payload: 2 });
    const controller = new AbortController();
    const aborted = p.submitAsync({ id: 'aborted', payload: 3 }, { signal: controller.signal });
    controller.abort(new Error('gave up'));
    await expect(aborted).rejects.toThrow('gave up');
    await expect(p.submitAsync({ payload: 1, priority: 0.5 })).rejects.toThrow(InvalidTaskError);
    expect(p.getTask('second')).toBeUndefined();
    p.cancel(blocker);
    expect(await second).toBe('second');
    expect(await p.result('second')).toMatchObject({ status: 'done' });
    expect(p.getTask('aborted')).toBeUndefined();
  });

  it('maxQueue must be a positive integer or Infinity', () => {
    expect(() => make({ maxQueue: 0 })).toThrow(/`maxQueue`/);
    expect(() => make({ maxQueue: Infinity })).not.toThrow();
  });
});

describe('rate limits and handler concurrency', () => {
  /** Start times (on the clock) of every attempt, as they happen. */
  function startTimes(p: Processor, clock: SimulatedClock, handler?: string): number[] {
    const times: number[] = [];
    p.events.subscribe((event) => {
      if (event.type === 'task.started' && (!handler || p.getTask(event.id)?.handler === handler)) times.push(clock.now());
    });
    return times;
  }

  /** Advances the simulated clock in steps, letting what each step let through finish first. */
  async function advance(p: Processor, clock: SimulatedClock, ids: readonly string[], ms: number, step: number): Promise<void> {
    // Every task has finished or is held back by a limit: nothing is on its way through a thread.
    const settled = () =>
      ids.every((id) => {
        const task = p.getTask(id);
        return task === undefined || task.state === 'done' || task.blockedBy !== undefined;
      });
    for (let t = 0; t < ms; t += step) {
      clock.increment(step);
      // What the step let through runs on real threads: wait for it on events, not time.
      while (!settled()) await nextEvent(p.events, 'task.done');
    }
  }

  it('rateLimit holds over a simulated minute: never more than max starts in any interval', async () => {
    const clock = new SimulatedClock();
    const p = make({ clock, workers: 2, window: 4, rateLimit: { max: 5, interval: 1_000 } });
    await p.ready;
    const times = startTimes(p, clock);
    const ids = Array.from({ length: 40 }, (_, i) => p.submit({ payload: i }));
    await Promise.all(ids.slice(0, 5).map((id) => p.result(id)));
    expect(times.length).toBe(5);
    expect(p.getTask(ids[39] as string)).toMatchObject({ state: 'queued', blockedBy: 'rateLimit' });
    await advance(p, clock, ids, 60_000, 250);
    await Promise.all(ids.map((id) => p.result(id)));
    expect(times.length).toBe(40);
    for (let i = 0; i + 5 < times.length; i++) expect((times[i + 5] as number) - (times[i] as number)).toBeGreaterThanOrEqual(1_000);
    // 40 tasks at 5 per second: the last starts 7 s in, not sooner.
    expect(times.at(-1)).toBe(7_000);
  });

  it('a per-handler rate limit holds that handler back and no other', async () => {
    const clock = new SimulatedClock();
    const p = make({ clock, workers: 2, window: 4, rateLimit: { perHandler: { processTask: { max: 2, interval: 1_000 } } } });
    await p.ready;
    const limited = startTimes(p, clock, 'processTask');
    const slow = Array.from({ length: 6 }, (_, i) => p.submit({ handler: 'processTask', payload: i }));
    const free = Array.from({ length: 6 }, (_, i) => p.submit({ payload: i }));
    // Every unlimited task finishes without the clock moving.
    await Promise.all(free.map((id) => p.result(id)));
    expect(limited.length).toBe(2);
    expect(p.getTask(slow[5] as string)).toMatchObject({ state: 'queued', blockedBy: 'rateLimit' });
    await advance(p, clock, slow, 3_000, 500);
    await Promise.all(slow.map((id) => p.result(id)));
    expect(limited).toEqual([0, 0, 1_000, 1_000, 2_000, 2_000]);
  });

  it('handlerConcurrency is never exceeded, and other handlers pass the held tasks', async () => {
    const p = make({ workers: 2, window: 4, handlerConcurrency: { sleep: 1 } });
    await p.ready;
    let running = 0;
    let most = 0;
    const order: string[] = [];
    p.events.subscribe((event) => {
      const handler = 'id' in event ? p.getTask(event.id)?.handler : undefined;
      if (handler !== 'sleep') {
        if (event.type === 'task.done') order.push('other');
        return;
      }
      if (event.type === 'task.started') most = Math.max(most, ++running);
      if (event.type === 'task.done') {
        running--;
        order.push('sleep');
      }
    });
    const sleeps = Array.from({ length: 4 }, (_, i) => p.submit({ id: `sleep-${i}`, handler: 'sleep', payload: { ms: 30 } }));
    expect(p.getTask('sleep-3')).toMatchObject({ state: 'queued', blockedBy: 'handlerConcurrency' });
    const others = Array.from({ length: 8 }, (_, i) => p.submit({ payload: i }));
    await Promise.all([...sleeps, ...others].map((id) => p.result(id)));
    expect(most).toBe(1);
    // The other tasks did not wait behind the held ones.
    expect(order.indexOf('other')).toBeLessThan(order.lastIndexOf('sleep'));
  });

  it('validates the limits', () => {
    expect(() => make({ rateLimit: { max: 0, interval: 1_000 } })).toThrow(/`rateLimit.max`/);
    expect(() => make({ rateLimit: { max: 5 } })).toThrow(/`rateLimit.interval`/);
    expect(() => make({ rateLimit: { perHandler: { x: { max: 1, interval: -1 } } } })).toThrow(/`rateLimit.perHandler.x.interval`/);
    expect(() => make({ handlerConcurrency: { upload: 1.5 } })).toThrow(/`handlerConcurrency.upload`/);
  });
});
