/**
 * The ten scenarios of the Python processor's suite, each asserting what the
 * original test meant, waiting on results and events instead of sleeping.
 */
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';

import { DuplicateTaskError, ProcessorShutdownError, type TaskResult, UnknownTaskError } from '../../src/index.js';
import { nextEvent, nextEvents, useProcessor } from '../helpers/index.js';

const make = useProcessor({ workers: 2 });

describe('the seed scenarios', () => {
  it('processes a task and returns its result', async () => {
    const p = make();
    const id = p.submit({ id: 'test1', handler: 'processTask', payload: { data: 'test' } });
    expect(id).toBe('test1');
    const result = await p.result(id);
    expect(result).toMatchObject({
      id: 'test1',
      status: 'done',
      attempts: 1,
      value: { taskId: 'test1', result: 'processed', data: { data: 'test' } },
    });
    expect(p.getResult('test1')).toEqual(result);
  });

  it('refuses a duplicate id while the first is unfinished, and only the first runs', async () => {
    const p = make();
    const started: string[] = [];
    p.events.subscribe((event) => event.type === 'task.started' && started.push(event.id));
    p.submit({ id: 'duplicate', handler: 'processTask', payload: { version: 1 } });
    expect(() => p.submit({ id: 'duplicate', handler: 'processTask', payload: { version: 2 } })).toThrow(DuplicateTaskError);
    const result = await p.result('duplicate');
    expect(result).toMatchObject({ status: 'done', value: { data: { version: 1 } } });
    expect(started).toEqual(['duplicate']);
  });

  it('processes many tasks concurrently on several threads', async () => {
    const p = make({ workers: 4 });
    await p.ready;
    const workers = new Set<number>();
    p.events.subscribe((event) => event.type === 'task.started' && workers.add(event.workerId));
    const ids = Array.from({ length: 10 }, (_, i) => p.submit({ id: `concurrent_${i}`, handler: 'sleep', payload: { ms: 20 } }));
    const results = await Promise.all(ids.map((id) => p.result(id)));
    expect(results.map((r) => r.status)).toEqual(Array(10).fill('done'));
    expect(workers.size).toBeGreaterThan(1);
  });

  it('retries a failing task with exponential backoff until it succeeds', async () => {
    const clock = new SimulatedClock();
    const p = make({ clock });
    const retries = nextEvents(p.events, 'task.retrying', 2);
    p.submit({ id: 'retry_test', handler: 'flaky', payload: { succeedOn: 3 } });
    const first = await nextEvent(p.events, 'task.retrying');
    expect(first).toMatchObject({ attempt: 1, delay: 100 });
    expect(first.error.message).toBe('Simulated failure 1');
    clock.increment(100);
    const [, second] = await retries;
    expect(second).toMatchObject({ attempt: 2, delay: 200 });
    clock.increment(200);
    const result = await p.result('retry_test');
    expect(result).toMatchObject({ status: 'done', attempts: 3, value: { attempt: 3 } });
  });

  it('fails a task after maxRetries and records it as failed', async () => {
    const p = make({ workers: 1, backoff: { delay: 0 } });
    p.submit({ id: 'fail_test', handler: 'alwaysFail', payload: { data: 'test' }, maxRetries: 2 });
    const result = await p.result('fail_test');
    expect(result.status).toBe('failed');
    expect(result.attempts).toBe(3); // the first attempt and 2 retries
    if (result.status === 'failed') expect(result.error.message).toBe('Always fails');
    const failed = p.getFailedTasks();
    expect([...failed.keys()]).toEqual(['fail_test']);
    failed.clear(); // a copy: the processor's record is untouched
    expect(p.getFailedTasks().has('fail_test')).toBe(true);
  });

  it('runs each callback once with the final result, before result() settles', async () => {
    const p = make();
    const seen: TaskResult[] = [];
    const ids = Array.from({ length: 5 }, (_, i) =>
      p.submit({ id: `callback_${i}`, handler: 'processTask', payload: { index: i }, callback: (r) => seen.push(r) }),
    );
    for (const id of ids) {
      const result = await p.result(id);
      expect(seen).toContain(result);
    }
    expect(seen).toHaveLength(5);
    expect(seen.every((r) => r.status === 'done')).toBe(true);
  });

  it('lets a callback submit new tasks without deadlock', async () => {
    const p = make({ workers: 4 });
    const submit = (id: string, level: number): void => {
      p.submit({
        id,
        handler: 'processTask',
        payload: { level },
        callback: (result) => {
          if (result.status === 'done' && level < 2) submit(`${id}_child`, level + 1);
        },
      });
    };
    for (let i = 0; i < 5; i++) submit(`deadlock_test_${i}`, 0);
    const grandchildren = Array.from({ length: 5 }, (_, i) => `deadlock_test_${i}_child_child`);
    const done = nextEvents(p.events, 'task.done', 15);
    const finished = await done;
    expect(finished.map((e) => e.id)).toEqual(expect.arrayContaining(grandchildren));
    expect(p.getStatus()).toMatchObject({ done: 15, queued: 0, processing: 0, shutdown: false });
  });

  it('leaves nothing processing, clears results, and keeps memory bounded', async () => {
    const p = make({ retention: { maxResults: 10 } });
    const finished: string[] = [];
    p.events.subscribe((event) => event.type === 'task.done' && finished.push(event.id));
    const ids = Array.from({ length: 100 }, (_, i) => p.submit({ id: `memory_${i}`, payload: { data: 'x'.repeat(1000) } }));
    await Promise.all(ids.map((id) => p.result(id)));
    expect(p.getStatus()).toMatchObject({ queued: 0, processing: 0, retrying: 0, done: 100 });
    expect(ids.some((id) => p.isProcessing(id))).toBe(false);
    // Only the 10 results that finished last are retained; older ones are forgotten.
    const retained = ids.filter((id) => p.getResult(id) !== undefined);
    expect(retained.sort()).toEqual(finished.slice(-10).sort());
    await expect(p.result(finished[0]!)).rejects.toBeInstanceOf(UnknownTaskError);
    p.clearResults();
    expect(ids.filter((id) => p.getResult(id) !== undefined)).toEqual([]);
    expect(p.getFailedTasks().size).toBe(0);
    expect(p.getStatus().done).toBe(100); // totals since start survive clearing
  });

  it('shuts down gracefully: drains accepted tasks, then refuses new ones', async () => {
    const p = make({ workers: 3 });
    const ids = Array.from({ length: 10 }, (_, i) => p.submit({ id: `shutdown_${i}`, handler: 'sleep', payload: { ms: 10 } }));
    const results = Promise.all(ids.map((id) => p.result(id)));
    const { unfinished } = await p.shutdown({ timeout: 10_000 });
    expect(unfinished).toEqual([]);
    expect((await results).map((r) => r.status)).toEqual(Array(10).fill('done'));
    expect(p.getStatus().shutdown).toBe(true);
    expect(() => p.submit({ payload: 1 })).toThrow(ProcessorShutdownError);
  });

  it('hands back what did not finish by the shutdown deadline', async () => {
    const clock = new SimulatedClock();
    const p = make({ workers: 1, clock });
    await p.ready;
    const started = nextEvent(p.events, 'task.started');
    p.submit({ id: 'running', handler: 'waitForAbort', payload: null });
    p.submit({ id: 'waiting', handler: 'processTask', payload: { keep: 'me' }, maxRetries: 1 });
    await started;
    const stopping = p.shutdown({ timeout: 5_000 });
    clock.increment(5_000);
    const { unfinished } = await stopping;
    expect(unfinished.map((task) => task.id)).toEqual(['running', 'waiting']);
    expect(unfinished[1]).toMatchObject({ payload: { keep: 'me' }, handler: 'processTask', maxRetries: 1 });
    expect(await p.result('waiting')).toMatchObject({ status: 'cancelled', reason: 'shutdown' });
    expect(await p.result('running')).toMatchObject({ status: 'cancelled', reason: 'shutdown' });
  });

  it('survives a stress of interleaved submits, reads and status calls', async () => {
    const p = make({ workers: 8 });
    const starts = new Map<string, number>();
    p.events.subscribe((event) => {
      if (event.type === 'task.started') starts.set(event.id, (starts.get(event.id) ?? 0) + 1);
    });
    const ids = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        await Promise.resolve();
        p.getStatus();
        const id = p.submit({ id: `stress_${i}`, payload: { index: i } });
        p.getResult(id);
        return id;
      }),
    );
    const results = await Promise.all(ids.map((id) => p.result(id)));
    results.forEach((result, i) => expect(result).toMatchObject({ status: 'done', value: { index: i } }));
    expect(p.getStatus()).toMatchObject({ done: 100, failed: 0, queued: 0, processing: 0 });
    expect([...starts.values()].every((n) => n === 1)).toBe(true);
    expect(starts.size).toBe(100);
  });
});
