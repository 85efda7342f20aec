import { describe, expect, it } from 'vitest';

import {
  deserializeError,
  DuplicateTaskError,
  serializeError,
  TaskCancelledError,
  TaskTimeoutError,
  TroupeError,
  WorkerCrashedError,
} from '../../src/index.js';

/** Through the structured clone algorithm, as across a thread. */
const roundTrip = (value: unknown) => deserializeError(structuredClone(serializeError(value)));

describe('errors crossing a thread', () => {
  it("Troupe's own errors keep their class, code and fields", () => {
    const back = roundTrip(new WorkerCrashedError(2, 137));
    expect(back).toBeInstanceOf(WorkerCrashedError);
    expect(back).toBeInstanceOf(TroupeError);
    expect(back).toMatchObject({ name: 'WorkerCrashedError', code: 'ERR_WORKER_CRASHED', exitCode: 137, workerId: 2 });
    expect(roundTrip(new TaskTimeoutError(50))).toBeInstanceOf(TaskTimeoutError);
    expect(roundTrip(new TaskCancelledError('shutdown'))).toMatchObject({ code: 'ERR_TASK_CANCELLED', reason: 'shutdown' });
    expect(roundTrip(new TaskCancelledError('x'))).toBeInstanceOf(TaskCancelledError);
    expect(roundTrip(new DuplicateTaskError('a'))).toMatchObject({ taskId: 'a', code: 'ERR_DUPLICATE_TASK' });
  });

  it('built-in errors keep their class', () => {
    expect(roundTrip(new RangeError('r'))).toBeInstanceOf(RangeError);
    expect(roundTrip(new TypeError('t'))).toMatchObject({ name: 'TypeError', message: 't' });
  });

  it('user errors keep name, message, stack, code, own fields and a nested cause', () => {
    const original = Object.assign(new Error('outer', { cause: new Error('middle', { cause: 'root' }) }), {
      name: 'UploadError',
      code: 'E_UPLOAD',
      status: 503,
      tags: ['a'],
      handle: () => 1, // not cloneable: dropped, not fatal
    });
    const back = roundTrip(original);
    expect(back).toBeInstanceOf(Error);
    expect(back).toMatchObject({ name: 'UploadError', message: 'outer', code: 'E_UPLOAD', status: 503, tags: ['a'] });
    expect(back.stack).toBe(original.stack);
    expect(back).not.toHaveProperty('handle');
    const middle = back.cause as Error;
    expect(middle.message).toBe('middle');
    expect(middle.cause).toMatchObject({ name: 'NonError', message: 'root' });
  });

  it('an error named like a Troupe error but with another code is not mistaken for one', () => {
    const impostor = Object.assign(new Error('x'), { name: 'TaskTimeoutError', code: 'E_OTHER' });
    expect(roundTrip(impostor)).not.toBeInstanceOf(TaskTimeoutError);
  });

  it('thrown non-Errors become NonError with a readable message', () => {
    expect(roundTrip('boom')).toMatchObject({ name: 'NonError', message: 'boom' });
    expect(roundTrip(42)).toMatchObject({ name: 'NonError', message: '42', value: 42 });
    expect(roundTrip({ reason: 'nope' })).toMatchObject({ name: 'NonError', message: "{ reason: 'nope' }" });
    expect(roundTrip(undefined)).toMatchObject({ name: 'NonError', message: 'undefined' });
  });

  it('a cyclic cause chain is cut, not followed forever', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    let depth = 0;
    for (let e: unknown = roundTrip(a); e instanceof Error; e = e.cause) depth++;
    expect(depth).toBeLessThanOrEqual(10);
  });
});
