/** One test per input rule: bad input is refused at the call, with a typed error, and changes nothing. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  createProcessor,
  DuplicateTaskError,
  InvalidOptionError,
  InvalidTaskError,
  type Processor,
  type ProcessorOptions,
  ProcessorShutdownError,
  type TaskInput,
  TroupeError,
  UnknownHandlerError,
  UnknownTaskError,
} from '../../src/index.js';
import { handlers } from '../helpers/index.js';

let p: Processor;
beforeAll(async () => {
  p = createProcessor({ handlers, workers: 1 });
  await p.ready;
});
afterAll(() => p.shutdown({ timeout: 0 }));

function expectRefused(task: unknown, field: string) {
  const before = p.getStatus();
  let error: unknown;
  try {
    p.submit(task as TaskInput);
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(InvalidTaskError);
  expect(error).toMatchObject({ code: 'ERR_INVALID_TASK', field });
  expect((error as Error).message).toContain(field === 'task' ? 'task' : `\`${field}\``);
  expect(p.getStatus()).toEqual(before);
}

describe('submit refuses bad input and changes nothing', () => {
  it.each([[''], [5], [null], [{}]])('an id that is not a non-empty string: %j', (id) => {
    expectRefused({ id, payload: 1 }, 'id');
    if (typeof id === 'string') expect(p.getTask(id)).toBeUndefined();
  });

  it('a task that is not an object', () => {
    expectRefused(null, 'task');
    expectRefused('task', 'task');
  });

  it.each([[-1], [1.5], ['3'], [Number.NaN]])('maxRetries %j', (maxRetries) => {
    expectRefused({ payload: 1, maxRetries }, 'maxRetries');
  });

  it.each([[-1], [0.5], ['10'], [Infinity]])('timeout %j', (timeout) => {
    expectRefused({ payload: 1, timeout }, 'timeout');
  });

  it.each([
    ['a function', () => 1],
    ['a symbol', Symbol('s')],
    ['an object holding a function', { f: () => 1 }],
  ])('a payload that cannot be structured-cloned: %s', (_label, payload) => {
    expectRefused({ id: 'unclonable', payload }, 'payload');
    expect(p.getTask('unclonable')).toBeUndefined();
  });

  it('a handler name that is not a non-empty string', () => {
    expectRefused({ payload: 1, handler: '' }, 'handler');
    expectRefused({ payload: 1, handler: 7 }, 'handler');
  });

  it('a callback that is not a function', () => {
    expectRefused({ payload: 1, callback: 'later' }, 'callback');
  });

  it('an id that is queued, processing or retrying', async () => {
    p.submit({ id: 'dup', handler: 'waitForAbort', payload: null });
    const before = p.getStatus();
    expect(() => p.submit({ id: 'dup', payload: 2 })).toThrow(DuplicateTaskError);
    try {
      p.submit({ id: 'dup', payload: 2 });
    } catch (error) {
      expect(error).toMatchObject({ code: 'ERR_DUPLICATE_TASK', taskId: 'dup' });
    }
    expect(p.getStatus()).toEqual(before);
    expect(p.cancel('dup')).toBe(true);
    expect(await p.result('dup')).toMatchObject({ status: 'cancelled' });
  });
});

describe('ids and results', () => {
  it('generates a unique id when none is given', async () => {
    const ids = [p.submit({ payload: 1 }), p.submit({ payload: 2 })];
    expect(ids[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(ids[0]).not.toBe(ids[1]);
    expect((await p.result(ids[1]!)).status).toBe('done');
  });

  it('copies the payload at submit: later changes by the caller do not leak in', async () => {
    const payload = { n: 1 };
    const id = p.submit({ payload });
    payload.n = 2;
    expect(await p.result(id)).toMatchObject({ value: { n: 1 } });
  });

  it('a finished id may be reused: the old result is discarded and result() waits for the new run', async () => {
    p.submit({ id: 'again', payload: 'first' });
    expect(await p.result('again')).toMatchObject({ value: 'first' });
    p.submit({ id: 'again', payload: 'second' });
    expect(p.getResult('again')).toBeUndefined();
    expect(await p.result('again')).toMatchObject({ value: 'second' });
  });

  it('result() rejects with UnknownTaskError for an id never seen', async () => {
    await expect(p.result('never-seen')).rejects.toBeInstanceOf(UnknownTaskError);
    await expect(p.result('never-seen')).rejects.toMatchObject({ code: 'ERR_UNKNOWN_TASK' });
  });

  it('an unknown handler fails that task once, with an error that names it', async () => {
    const id = p.submit({ handler: 'noSuchHandler', payload: 1, maxRetries: 5 });
    const result = await p.result(id);
    expect(result).toMatchObject({ status: 'failed', attempts: 1 });
    if (result.status !== 'failed') throw new Error('expected failed');
    expect(result.error).toBeInstanceOf(UnknownHandlerError);
    expect(result.error).toMatchObject({ code: 'ERR_UNKNOWN_HANDLER', handler: 'noSuchHandler' });
    expect(result.error.message).toContain('`noSuchHandler`');
  });

  it('cancel() of an unknown or finished id returns false and changes nothing', async () => {
    const id = p.submit({ payload: 1 });
    await p.result(id);
    const before = p.getStatus();
    expect(p.cancel('nobody')).toBe(false);
    expect(p.cancel(id)).toBe(false);
    expect(p.getStatus()).toEqual(before);
    expect(p.getResult(id)?.status).toBe('done');
  });
});

describe('createProcessor refuses bad options', () => {
  it.each<[string, Partial<ProcessorOptions>, string]>([
    ['workers 0', { workers: 0 }, 'workers'],
    ['workers 1.5', { workers: 1.5 }, 'workers'],
    ['maxRetries -1', { maxRetries: -1 }, 'maxRetries'],
    ['timeout -5', { timeout: -5 }, 'timeout'],
    ['backoff.factor 0.5', { backoff: { factor: 0.5 } }, 'backoff.factor'],
    ['backoff.jitter 2', { backoff: { jitter: 2 } }, 'backoff.jitter'],
    ['backoff null', { backoff: null as never }, 'backoff'],
    ['retention.maxResults -1', { retention: { maxResults: -1 } }, 'retention.maxResults'],
    ['abortGrace NaN', { abortGrace: Number.NaN }, 'abortGrace'],
    ['actorThreads -1', { actorThreads: -1 }, 'actorThreads'],
    ['actorThreads 0.5', { actorThreads: 0.5 }, 'actorThreads'],
  ])('%s', (_label, options, option) => {
    const create = () => createProcessor({ handlers, ...options });
    expect(create).toThrow(InvalidOptionError);
    expect(create).toThrow(`\`${option}\``);
    try {
      create();
    } catch (error) {
      expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION', option });
    }
  });

  it('missing handlers', () => {
    expect(() => createProcessor({})).toThrow(InvalidOptionError);
    expect(() => createProcessor({ handlers: '' })).toThrow(/`handlers`/);
  });
});

describe('after shutdown', () => {
  it('submit throws ProcessorShutdownError', async () => {
    const q = createProcessor({ handlers, workers: 1 });
    await q.shutdown();
    expect(() => q.submit({ payload: 1 })).toThrow(ProcessorShutdownError);
    expect(() => q.submit({ payload: 1 })).toThrow(TroupeError);
    expect(q.getStatus()).toMatchObject({ shutdown: true, queued: 0 });
  });
});

describe('getTask', () => {
  it('describes a task in any state, finished ones from their retained result', async () => {
    const id = p.submit({ handler: 'processTask', payload: 1, maxRetries: 2, timeout: 5_000 });
    // An idle thread takes it at once: it is already processing.
    expect(p.getTask(id)).toMatchObject({ id, state: 'processing', handler: 'processTask', maxRetries: 2, timeout: 5_000 });
    await p.result(id);
    expect(p.getTask(id)).toMatchObject({ id, state: 'done', handler: 'processTask', maxRetries: 2, timeout: 5_000, attempts: 1 });
    expect(p.getTask('nobody')).toBeUndefined();
  });

  it('a failed result keeps the payload, so it can be resubmitted', async () => {
    const id = p.submit({ handler: 'alwaysFail', payload: { order: 7 }, maxRetries: 0 });
    const failed = (await p.result(id)) as Extract<Awaited<ReturnType<typeof p.result>>, { status: 'failed' }>;
    expect(failed).toMatchObject({ status: 'failed', payload: { order: 7 }, handler: 'alwaysFail' });
    const again = p.submit({ id, handler: 'processTask', payload: failed.payload });
    expect(await p.result(again)).toMatchObject({ status: 'done', value: { data: { order: 7 } } });
  });
});
