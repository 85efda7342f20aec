import { describe, expect, it } from 'vitest';

import { AttemptContext } from '../../src/workers/attempt-context.js';

describe('AttemptContext (a handler’s ctx in its thread)', () => {
  it('shows the handler its id, attempt and trace context, and nothing of the thread’s', () => {
    const ctx = new AttemptContext('t1', 2, { traceparent: '00-abc-def-01' });
    expect(ctx).toMatchObject({ id: 't1', attempt: 2, traceContext: { traceparent: '00-abc-def-01' } });
    expect(Object.keys(ctx).sort()).toEqual(['attempt', 'id', 'traceContext']);
  });

  it('an abort after the signal was read aborts that signal, with the reason', () => {
    const ctx = new AttemptContext('t1', 1, undefined);
    const { signal } = ctx;
    expect(signal.aborted).toBe(false);
    const reason = new Error('timed out');
    AttemptContext.abort(ctx, reason);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe(reason);
    expect(ctx.signal).toBe(signal);
  });

  it('an abort before the signal was read is kept: the signal read later is aborted, with the first reason', () => {
    const ctx = new AttemptContext('t1', 1, undefined);
    const first = new Error('cancelled');
    AttemptContext.abort(ctx, first);
    AttemptContext.abort(ctx, new Error('second'));
    expect(ctx.signal.aborted).toBe(true);
    expect(ctx.signal.reason).toBe(first);
  });

  it('collects what transfer marks, and returns the value as it was', () => {
    const ctx = new AttemptContext('t1', 1, undefined);
    expect(AttemptContext.marked(ctx)).toBeUndefined();
    const bytes = new ArrayBuffer(8);
    const value = { bytes };
    expect(ctx.transfer(value, [bytes])).toBe(value);
    expect(AttemptContext.marked(ctx)).toEqual([bytes]);
  });
});
