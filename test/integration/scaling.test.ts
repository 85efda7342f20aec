/**
 * Resizing the pool at run time: `scale(n)` under load, and elastic pools
 * (`workers: { min, max, idleTimeout }`) that grow while tasks wait and
 * shrink after idle threads, on a simulated clock.
 */
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';

import { InvalidOptionError, natsBroker, ProcessorShutdownError, type TaskResult } from '../../src/index.js';
import { fixture, nextEvents, useProcessor } from '../helpers/index.js';

const processor = useProcessor();

type Told = TaskResult<{ pid: number; attempt: number }>;

describe('scale(n)', () => {
  it('loses nothing and charges nothing while the pool goes 1 → 4 → 1 under load', { timeout: 30_000 }, async () => {
    const p = processor({ workers: 1 });
    await p.ready;
    const workerIds = new Set<number>();
    let onFourth = () => {};
    const fourWorkersRan = new Promise<void>((resolve) => (onFourth = resolve));
    const started = p.events.subscribe((event) => {
      if (event.type !== 'task.started') return;
      workerIds.add(event.workerId);
      if (workerIds.size === 4) onFourth();
    });
    // Enough work that the three added threads each get some before the pool shrinks again (waited for below).
    const ids = Array.from({ length: 1_200 }, (_, n) => p.submit({ id: `s${n}`, handler: 'napAndTell', payload: { ms: 2 } }));
    const results = Promise.all(ids.map((id) => p.result(id) as Promise<Told>));
    const added = nextEvents(p.events, 'worker.started', 3);

    await p.scale(4);
    expect(p.getStatus().workers).toBe(4);
    expect(p.metrics().workers.filter((worker) => worker.state === 'ready')).toHaveLength(4);
    await added;
    await fourWorkersRan;

    const exited = nextEvents(p.events, 'worker.exited', 3);
    const retiring = nextEvents(p.events, 'worker.retiring', 3);
    await p.scale(1);
    expect(p.getStatus().workers).toBe(1);
    expect((await retiring).map((event) => event.reason)).toEqual(['scale', 'scale', 'scale']);

    const finished = await results;
    started.unsubscribe();
    // Every task ended done on its first attempt: what waited in a leaving thread's window ran elsewhere, uncharged.
    expect(finished.map((result) => result.status)).toEqual(ids.map(() => 'done'));
    expect(finished.filter((result) => result.attempts !== 1)).toEqual([]);
    // The three that left exited as the processor meant them to: no crash, no replacement.
    expect((await exited).every((event) => event.expected)).toBe(true);
    const metrics = p.metrics();
    expect(metrics.workers).toHaveLength(1);
    expect(metrics).toMatchObject({ crashes: 0, restarts: 0, resized: { added: 3, retired: 3 } });
    expect(await p.prometheus()).toMatch(/troupe_pool_resized_total\{change="retired"\} 3/);
  });

  it('lets a leaving thread finish its running attempt before it exits', { timeout: 15_000 }, async () => {
    const p = processor({ workers: 2 });
    await p.ready;
    const started = nextEvents(p.events, 'task.started', 2);
    const first = p.submit({ id: 'first', handler: 'napAndTell', payload: { ms: 300 } });
    const second = p.submit({ id: 'second', handler: 'napAndTell', payload: { ms: 300 } });
    // One on each thread: whichever leaves has an attempt running.
    expect(new Set((await started).map((event) => event.workerId)).size).toBe(2);
    const exited = nextEvents(p.events, 'worker.exited', 1);
    await p.scale(1);
    expect(
      p
        .metrics()
        .workers.map((worker) => worker.state)
        .sort(),
    ).toEqual(['ready', 'retiring']);
    const [left] = await exited;
    expect(left).toMatchObject({ expected: true });
    expect(await p.result(first)).toMatchObject({ status: 'done', attempts: 1 });
    expect(await p.result(second)).toMatchObject({ status: 'done', attempts: 1 });
  });

  it('never retires a thread an actor lives on: its actor keeps its state', { timeout: 15_000 }, async () => {
    const p = processor({ handlers: fixture('actors.ts'), workers: 2 });
    const counter = await p.spawn('counter', { id: 'kept', input: { start: 5 } });
    await counter.ask({ type: 'inc' });
    const exited = nextEvents(p.events, 'worker.exited', 1);
    await p.scale(1);
    expect((await exited)[0]?.workerId).not.toBe(counter.workerId);
    expect((await counter.ask({ type: 'inc' })).context).toMatchObject({ count: 7 });
    expect(p.metrics().workers.map((worker) => worker.id)).toEqual([counter.workerId]);
  });

  it('refuses a size that is not a positive integer, changing nothing, and any size after shutdown', async () => {
    const p = processor({ workers: 2 });
    await p.ready;
    for (const bad of [0, -1, 1.5, Number.NaN, '3' as unknown as number]) {
      await expect(p.scale(bad)).rejects.toThrow(InvalidOptionError);
    }
    await expect(p.scale(0)).rejects.toThrow('Expected `workers` to be a positive integer, got `0` (number)');
    expect(p.getStatus().workers).toBe(2);
    await p.shutdown();
    await expect(p.scale(2)).rejects.toThrow(ProcessorShutdownError);
  });
});

describe('an elastic pool', () => {
  it('grows while tasks wait, up to max, and shrinks to min after idleTimeout', { timeout: 30_000 }, async () => {
    const clock = new SimulatedClock();
    const p = processor({ workers: { min: 1, max: 3, idleTimeout: 1_000 }, clock });
    await p.ready;
    expect(p.getStatus().workers).toBe(1);
    const grown = nextEvents(p.events, 'pool.resized', 2);
    const ids = Array.from({ length: 60 }, (_, n) => p.submit({ id: `e${n}`, handler: 'napAndTell', payload: { ms: 50 } }));
    expect((await grown).map(({ workers, reason }) => ({ workers, reason }))).toEqual([
      { workers: 2, reason: 'grow' },
      { workers: 3, reason: 'grow' },
    ]);
    const finished = await Promise.all(ids.map((id) => p.result(id)));
    expect(finished.every((result) => result.status === 'done' && result.attempts === 1)).toBe(true);
    expect(p.getStatus().workers).toBe(3);

    // Idle, but the clock has not moved: nothing leaves. Then idleTimeout passes: two leave, down to min.
    const shrunk = nextEvents(p.events, 'pool.resized', 2);
    const exited = nextEvents(p.events, 'worker.exited', 2);
    clock.increment(999);
    expect(p.getStatus().workers).toBe(3);
    clock.increment(1);
    expect((await shrunk).map(({ workers, reason }) => ({ workers, reason }))).toEqual([
      { workers: 2, reason: 'shrink' },
      { workers: 1, reason: 'shrink' },
    ]);
    expect((await exited).every((event) => event.expected)).toBe(true);
    expect(p.getStatus().workers).toBe(1);
    expect(p.metrics().resized).toEqual({ added: 2, retired: 2 });

    // And it still works, and grows again.
    const again = p.submit({ handler: 'napAndTell', payload: { ms: 1 } });
    expect(await p.result(again)).toMatchObject({ status: 'done' });
  });

  it('refuses bounds that make no pool, and a scale outside them', async () => {
    expect(() => processor({ workers: { min: 0, max: 2 } })).toThrow(/`workers.min` to be a positive integer/);
    expect(() => processor({ workers: { min: 3, max: 2 } })).toThrow(/`workers.max` to be at least `workers.min` \(3\), got 2/);
    expect(() => processor({ workers: { min: 1, max: 2, idleTimeout: -1 } })).toThrow(InvalidOptionError);
    // A cluster grows by its nodes; a node is scaled with scale(n).
    expect(() => processor({ workers: { min: 1, max: 2 }, broker: natsBroker() })).toThrow(/a number with a `broker`/);
    const p = processor({ workers: { min: 1, max: 2 } });
    await p.ready;
    await expect(p.scale(3)).rejects.toThrow(/within the elastic pool's 1\.\.2, got 3/);
    await p.scale(2);
    expect(p.getStatus().workers).toBe(2);
  });
});
