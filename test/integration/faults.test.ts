/** Crashes, timeouts, cancellation and start failures: nothing hangs, nothing runs twice at once. */
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';

import { type Processor, type ProcessorEvent, TaskTimeoutError, WorkerCrashedError, WorkerStartError } from '../../src/index.js';
import { fixture, nextEvent, nextEvents, useProcessor } from '../helpers/index.js';

const make = useProcessor({ workers: 1 });

function record(p: Processor): ProcessorEvent[] {
  const events: ProcessorEvent[] = [];
  p.events.subscribe((event) => events.push(event));
  return events;
}

describe('a thread that exits mid-task', () => {
  it('fails that attempt with WorkerCrashedError, retries on a fresh thread, and nothing hangs', async () => {
    const p = make({ backoff: { delay: 0 } });
    await p.ready;
    const exited = nextEvent(p.events, 'worker.exited');
    const retrying = nextEvent(p.events, 'task.retrying');
    p.submit({ id: 'crash', handler: 'exitOnFirst', payload: null });
    expect(await exited).toMatchObject({ exitCode: 3, expected: false });
    const { error } = await retrying;
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect(error).toMatchObject({ code: 'ERR_WORKER_CRASHED', exitCode: 3 });
    expect(await p.result('crash')).toMatchObject({ status: 'done', attempts: 2, value: { attempt: 2 } });
    // The replacement thread serves later tasks too.
    expect(await p.result(p.submit({ payload: 'after' }))).toMatchObject({ status: 'done', value: 'after' });
  });

  it('fails the task when the crash was its last attempt', async () => {
    const p = make();
    p.submit({ id: 'crash', handler: 'exitOnFirst', payload: null, maxRetries: 0 });
    const result = await p.result('crash');
    expect(result.status).toBe('failed');
    if (result.status === 'failed') expect(result.error).toBeInstanceOf(WorkerCrashedError);
  });
});

describe('backoff', () => {
  it('does not occupy a thread: later tasks finish while a failed one waits', async () => {
    const clock = new SimulatedClock();
    const p = make({ clock });
    p.submit({ id: 'slow-retry', handler: 'flaky', payload: { succeedOn: 2 } });
    await nextEvent(p.events, 'task.retrying');
    const others = ['a', 'b', 'c'].map((id) => p.submit({ id, payload: id }));
    const results = await Promise.all(others.map((id) => p.result(id)));
    expect(results.map((r) => r.status)).toEqual(['done', 'done', 'done']);
    expect(p.getTask('slow-retry')).toMatchObject({ state: 'retrying', attempts: 1, retryDelay: 100 });
    clock.increment(100);
    expect(await p.result('slow-retry')).toMatchObject({ status: 'done', attempts: 2 });
  });
});

describe('timeouts', () => {
  it('fail the attempt with TaskTimeoutError and abort the handler signal', async () => {
    const clock = new SimulatedClock();
    const p = make({ clock, timeout: 50, maxRetries: 0 });
    const started = nextEvent(p.events, 'task.started');
    p.submit({ id: 'slow', handler: 'waitForAbort', payload: null });
    await started;
    clock.increment(50);
    const result = await p.result('slow');
    expect(result.status).toBe('failed');
    if (result.status === 'failed') {
      expect(result.error).toBeInstanceOf(TaskTimeoutError);
      expect(result.error).toMatchObject({ code: 'ERR_TASK_TIMEOUT', timeout: 50 });
    }
    // The handler honoured its signal, so the same thread takes the next task.
    const events = record(p);
    expect(await p.result(p.submit({ payload: 'next' }))).toMatchObject({ status: 'done' });
    expect(events.some((e) => e.type === 'worker.exited')).toBe(false);
  });

  it('replace the thread when the handler ignores its signal past abortGrace', async () => {
    const clock = new SimulatedClock();
    const p = make({ clock, maxRetries: 0, abortGrace: 1_000 });
    await p.ready;
    const started = nextEvent(p.events, 'task.started');
    p.submit({ id: 'spin', handler: 'spinForever', payload: null, timeout: 20 });
    await started;
    clock.increment(20);
    expect(await p.result('spin')).toMatchObject({ status: 'failed' });
    // The spinning attempt still holds the only thread: the next task waits.
    p.submit({ id: 'next', payload: 'next' });
    expect(p.getTask('next')?.state).toBe('queued');
    const exited = nextEvent(p.events, 'worker.exited');
    clock.increment(1_000);
    expect(await exited).toMatchObject({ expected: false });
    // The replacement starts after the restart backoff (100 ms ± 20%), on the same clock.
    expect(p.getTask('next')?.state).toBe('queued');
    clock.increment(120);
    expect(await p.result('next')).toMatchObject({ status: 'done', value: 'next' });
  });

  it('send nothing to a thread whose attempt ignores its abort, so no bystander dies with it', async () => {
    const clock = new SimulatedClock();
    const p = make({ clock, maxRetries: 0, maxCrashes: 2, abortGrace: 1_000 });
    await p.ready;
    const started = nextEvent(p.events, 'task.started');
    p.submit({ id: 'spin', handler: 'spinForever', payload: null, timeout: 20 });
    await started;
    clock.increment(20);
    expect(await p.result('spin')).toMatchObject({ status: 'failed' });
    // The thread's window has room, but the thread is doomed: the task waits for another one.
    p.submit({ id: 'crash', handler: 'exitAlways', payload: null, maxRetries: 5 });
    expect(p.getTask('crash')?.waitingFor).toBe('thread');
    let exited = nextEvent(p.events, 'worker.exited');
    clock.increment(1_000);
    await exited;
    // Each crash replaces the thread after the restart backoff: 100 ms, then 200 ms (± 20%).
    for (const backoff of [120, 240]) {
      exited = nextEvent(p.events, 'worker.exited');
      clock.increment(backoff);
      await exited;
    }
    // Charged for its own two crashes only, not suspected for the thread it never ran on.
    expect(await p.result('crash')).toMatchObject({ status: 'failed', attempts: 2, error: { name: 'PoisonTaskError' } });
  });

  it('a per-task timeout of 0 overrides the processor default', async () => {
    const clock = new SimulatedClock();
    const p = make({ clock, timeout: 10 });
    const started = nextEvent(p.events, 'task.started');
    p.submit({ id: 'untimed', handler: 'sleep', payload: { ms: 5 }, timeout: 0 });
    await started;
    clock.increment(1_000);
    expect(await p.result('untimed')).toMatchObject({ status: 'done', value: 5 });
  });
});

describe('cancel', () => {
  it('ends a queued task at once', async () => {
    const p = make();
    p.submit({ id: 'busy', handler: 'waitForAbort', payload: null });
    p.submit({ id: 'queued', payload: 1 });
    expect(p.cancel('queued', 'not needed')).toBe(true);
    expect(p.getTask('queued')).toMatchObject({ state: 'cancelled' });
    expect(await p.result('queued')).toMatchObject({ status: 'cancelled', reason: 'not needed', attempts: 0 });
    expect(p.getStatus()).toMatchObject({ cancelled: 1 });
  });

  it('ends a retrying task at once and its backoff never fires', async () => {
    const clock = new SimulatedClock();
    const p = make({ clock });
    p.submit({ id: 'r', handler: 'alwaysFail', payload: null });
    await nextEvent(p.events, 'task.retrying');
    expect(p.cancel('r')).toBe(true);
    const events = record(p);
    clock.increment(60_000);
    expect(await p.result('r')).toMatchObject({ status: 'cancelled', attempts: 1 });
    expect(events.filter((e) => e.type === 'task.started')).toEqual([]);
  });

  it('aborts a running handler, which frees its thread', async () => {
    const p = make();
    const started = nextEvent(p.events, 'task.started');
    p.submit({ id: 'running', handler: 'waitForAbort', payload: null });
    await started;
    expect(p.isProcessing('running')).toBe(true);
    p.cancel('running', 'changed my mind');
    expect(await p.result('running')).toMatchObject({ status: 'cancelled', reason: 'changed my mind' });
    expect(p.isProcessing('running')).toBe(false);
    expect(await p.result(p.submit({ payload: 'next' }))).toMatchObject({ status: 'done' });
  });

  it('never lets a resubmitted id run while its cancelled attempt is still stopping', async () => {
    const clock = new SimulatedClock();
    const p = make({ clock, workers: 2, abortGrace: 500 });
    await p.ready;
    const started = nextEvent(p.events, 'task.started');
    p.submit({ id: 'x', handler: 'spinForever', payload: null });
    await started;
    const events = record(p);
    p.cancel('x');
    expect(await p.result('x')).toMatchObject({ status: 'cancelled' });
    p.submit({ id: 'x', payload: 'second run' });
    // A second thread is idle, yet the new run waits for the old attempt to stop.
    expect(await p.result(p.submit({ payload: 'other' }))).toMatchObject({ status: 'done' });
    expect(p.getTask('x')).toMatchObject({ state: 'queued' });
    clock.increment(500);
    expect(await p.result('x')).toMatchObject({ status: 'done', value: 'second run' });
    const order = events.filter((e) => e.type === 'worker.exited' || (e.type === 'task.started' && e.id === 'x'));
    expect(order.map((e) => e.type)).toEqual(['worker.exited', 'task.started']);
  });
});

describe('errors crossing the thread', () => {
  it('keep their name, message, code, own fields and cause', async () => {
    const p = make();
    const result = await p.result(p.submit({ handler: 'throwCustom', payload: null, maxRetries: 0 }));
    if (result.status !== 'failed') throw new Error('expected failed');
    expect(result.error).toBeInstanceOf(Error);
    expect(result.error).toMatchObject({ name: 'QuotaError', message: 'quota exceeded', code: 'E_QUOTA', limit: 5 });
    expect(result.error.stack).toContain('throwCustom');
    expect(result.error.cause).toBeInstanceOf(TypeError);
    expect((result.error.cause as Error).message).toBe('inner cause');
  });

  it('are readable when the handler threw a non-Error', async () => {
    const p = make();
    const result = await p.result(p.submit({ handler: 'throwString', payload: null, maxRetries: 0 }));
    if (result.status !== 'failed') throw new Error('expected failed');
    expect(result.error).toMatchObject({ name: 'NonError', message: 'plain string' });
  });

  it('a return value that cannot be cloned fails the task without retrying', async () => {
    const p = make();
    const result = await p.result(p.submit({ handler: 'returnsFunction', payload: null }));
    expect(result).toMatchObject({ status: 'failed', attempts: 1 });
    if (result.status === 'failed') expect(result.error.message).toMatch(/structured-cloned/);
  });
});

describe('callbacks', () => {
  it('a throwing callback is reported on events and harms nothing else', async () => {
    const p = make();
    const reported = nextEvent(p.events, 'callback.error');
    const id = p.submit({
      payload: 1,
      callback: () => {
        throw new Error('callback bug');
      },
    });
    expect(await p.result(id)).toMatchObject({ status: 'done', value: 1 });
    expect(await reported).toMatchObject({ id, error: { message: 'callback bug' } });
    expect(await p.result(p.submit({ payload: 2 }))).toMatchObject({ status: 'done' });
  });
});

describe('a handler module that fails to load', () => {
  it('rejects ready with WorkerStartError, fails accepted tasks with it and refuses new ones', async () => {
    const p = make({ handlers: fixture('broken-handlers.ts'), workers: 2 });
    const ids = [p.submit({ payload: 1 }), p.submit({ payload: 2, delay: 60_000 })];
    await expect(p.ready).rejects.toBeInstanceOf(WorkerStartError);
    await expect(p.ready).rejects.toThrow(/broken on purpose/);
    for (const id of ids) {
      // They never ran: they end failed with the error that kept the threads from starting, naming the module.
      const result = await p.result(id);
      expect(result).toMatchObject({ status: 'failed', attempts: 0 });
      if (result.status !== 'failed') continue;
      expect(result.error).toBeInstanceOf(WorkerStartError);
      expect(result.error).toMatchObject({ code: 'ERR_WORKER_START', cause: { message: 'broken on purpose' } });
      expect(result.error.message).toContain(fixture('broken-handlers.ts').href);
    }
    expect(() => p.submit({ payload: 2 })).toThrow(WorkerStartError);
  });

  it('a missing module is reported the same way, naming the module and no path of Troupe', async () => {
    const p = make({ handlers: fixture('does-not-exist.js') });
    const id = p.submit({ payload: 1 });
    await expect(p.ready).rejects.toMatchObject({ code: 'ERR_WORKER_START' });
    const result = await p.result(id);
    expect(result).toMatchObject({ status: 'failed', error: { code: 'ERR_WORKER_START' } });
    if (result.status !== 'failed') return;
    expect(result.error.message).toContain('does-not-exist.js');
    expect(result.error.message).not.toMatch(/thread-entry/);
  });
});

describe('concurrency per thread', () => {
  it('runs up to `concurrency` attempts at once on one thread', async () => {
    const p = make({ concurrency: 3 });
    await p.ready;
    const started = nextEvents(p.events, 'task.started', 3);
    for (const id of ['a', 'b', 'c', 'd']) p.submit({ id, handler: 'waitForAbort', payload: null });
    expect((await started).map((e) => e.id)).toEqual(['a', 'b', 'c']);
    expect(['a', 'b', 'c'].map((id) => p.isProcessing(id))).toEqual([true, true, true]);
    expect(p.getTask('d')?.state).toBe('queued');
    p.cancel('a');
    expect(await nextEvent(p.events, 'task.started')).toMatchObject({ id: 'd' });
  });

  it('one value that cannot be cloned fails its task alone, not the batch it travelled in', async () => {
    const p = make({ concurrency: 8 });
    await p.ready;
    const ids = ['x1', 'x2', 'bad', 'x3'].map((id) =>
      p.submit({ id, handler: id === 'bad' ? 'returnsFunction' : 'processTask', payload: id }),
    );
    const results = await Promise.all(ids.map((id) => p.result(id)));
    expect(results.map((r) => r.status)).toEqual(['done', 'done', 'failed', 'done']);
    expect(results[2]).toMatchObject({ attempts: 1, error: { name: 'TypeError' } });
  });
});
