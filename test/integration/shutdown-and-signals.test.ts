/** Cancelling through an AbortSignal, shutting down without draining, and a process that exits by itself. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { describe, expect, it } from 'vitest';

import { InvalidTaskError } from '../../src/index.js';
import { nextEvent, nextEvents, useProcessor } from '../helpers/index.js';

const make = useProcessor({ workers: 1 });

describe('submit({ signal })', () => {
  it('cancels a waiting task when its signal aborts, with the reason', async () => {
    const p = make();
    p.submit({ id: 'busy', handler: 'waitForAbort', payload: null });
    const controller = new AbortController();
    p.submit({ id: 'waiting', payload: 1, signal: controller.signal });
    controller.abort(new Error('user navigated away'));
    expect(await p.result('waiting')).toMatchObject({ status: 'cancelled', reason: 'user navigated away', attempts: 0 });
    p.cancel('busy');
  });

  it('aborts a running handler through ctx.signal, and the task ends cancelled', async () => {
    const p = make();
    const controller = new AbortController();
    const started = nextEvent(p.events, 'task.started');
    p.submit({ id: 'running', handler: 'waitForAbort', payload: null, signal: controller.signal });
    await started;
    controller.abort();
    expect(await p.result('running')).toMatchObject({ status: 'cancelled', reason: 'This operation was aborted' });
    expect(await p.result(p.submit({ payload: 'next' }))).toMatchObject({ status: 'done' });
  });

  it('an already aborted signal cancels the task at once', async () => {
    const p = make();
    const id = p.submit({ payload: 1, signal: AbortSignal.abort('too late') });
    expect(await p.result(id)).toMatchObject({ status: 'cancelled', reason: 'too late' });
  });

  it('a signal that aborts after its task finished changes nothing, not even a reuse of the id', async () => {
    const p = make();
    const controller = new AbortController();
    await p.result(p.submit({ id: 'x', payload: 'first', signal: controller.signal }));
    p.submit({ id: 'x', handler: 'waitForAbort', payload: 'second' });
    controller.abort();
    expect(p.getTask('x')?.state).not.toBe('cancelled');
    p.cancel('x');
  });

  it('refuses a signal that is not an AbortSignal', () => {
    const p = make();
    expect(() => p.submit({ payload: 1, signal: {} as AbortSignal })).toThrow(InvalidTaskError);
  });
});

describe('shutdown({ drain: false })', () => {
  it('lets running attempts finish and hands back the rest at once', async () => {
    const p = make();
    await p.ready;
    const started = nextEvent(p.events, 'task.started');
    p.submit({ id: 'running', handler: 'sleep', payload: { ms: 50 } });
    await started;
    const cancelled = nextEvents(p.events, 'task.cancelled', 2);
    p.submit({ id: 'queued-1', payload: 1 });
    p.submit({ id: 'queued-2', payload: 2 });
    const { unfinished } = await p.shutdown({ drain: false, timeout: 10_000 });
    expect(unfinished.map((task) => task.id)).toEqual(['queued-1', 'queued-2']);
    expect((await cancelled).map((event) => event.result.reason)).toEqual(['shutdown', 'shutdown']);
    expect(await p.result('running')).toMatchObject({ status: 'done', value: 50 });
  });
});

describe('after shutdown', () => {
  it('nothing keeps the process alive: it exits by itself', async () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const script = `
      import { createProcessor } from './src/index.ts';
      const p = createProcessor({ handlers: './test/fixtures/handlers.ts', workers: 2, timeout: 60_000 });
      const ids = [1, 2, 3].map((n) => p.submit({ handler: 'flaky', payload: { succeedOn: 2 } }));
      p.submit({ handler: 'waitForAbort', payload: null });
      await Promise.all(ids.map((id) => p.result(id)));
      await p.shutdown({ timeout: 100 });
      console.log('shut down');
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '--eval', script], {
      cwd: root,
      timeout: 15_000,
    });
    expect(stdout.trim()).toBe('shut down');
  });
});
