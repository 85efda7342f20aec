import { describe, expect, it } from 'vitest';

import { cancelledResult, doneResult, failedResult } from '../../src/task/results.js';
import { RetainedResults } from '../../src/task/retained.js';
import type { TaskResult } from '../../src/task/types.js';

const progress = { attempts: 1, submittedAt: 0, startedAt: 0 };
const fields = (id: string) => ({ id, handler: 'h', priority: 2, maxRetries: 1, timeout: 50 });
const done = (id: string) => doneResult(fields(id), id, progress);
const failed = (id: string) => failedResult(fields(id), new Error(id), { of: id }, progress);
const cancelled = (id: string) => cancelledResult(fields(id), 'stop', progress);
const ids = (results: readonly TaskResult[]) => results.map((result) => result.id);

describe('RetainedResults', () => {
  it('pages each status after a cursor, oldest first, and covers it exactly once', () => {
    const retained = new RetainedResults({ maxResults: 100, maxFailed: 100 });
    for (let n = 0; n < 25; n++) retained.store(n % 5 === 0 ? cancelled(`t${n}`) : done(`t${n}`));
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = retained.page('done', after, 7);
      if (page.length === 0) break;
      seen.push(...ids(page));
      after = page.at(-1)?.id;
    }
    expect(seen).toEqual(Array.from({ length: 25 }, (_, n) => `t${n}`).filter((_, n) => n % 5 !== 0));
    expect(ids(retained.page('cancelled', 't5', 10))).toEqual(['t10', 't15', 't20']);
    expect(retained.size('done')).toBe(20);
  });

  it('forgets the oldest of done and cancelled together, failed apart, and a cursor forgotten starts from the oldest', () => {
    const retained = new RetainedResults({ maxResults: 3, maxFailed: 2 });
    retained.store(cancelled('c1'), { payload: 'p1' });
    retained.store(done('d1'));
    retained.store(done('d2'));
    retained.store(done('d3'));
    for (const id of ['f1', 'f2', 'f3']) retained.store(failed(id));
    expect(retained.get('c1')).toBeUndefined();
    expect(retained.resubmission('c1')).toBeUndefined();
    expect(ids(retained.page('done', 'd1', 10))).toEqual(['d2', 'd3']);
    expect(ids(retained.page('failed', 'f1', 10))).toEqual(['f2', 'f3']);
    expect([...retained.failed().keys()]).toEqual(['f2', 'f3']);
  });

  it('resubmits a failed or cancelled task with its input, while its result is retained', () => {
    const retained = new RetainedResults({ maxResults: 10, maxFailed: 10 });
    retained.store(failed('f'));
    retained.store(cancelled('c'), { payload: { n: 1 } });
    retained.store(cancelled('given-back'));
    retained.store(done('d'), { payload: 'not kept' });
    expect(retained.resubmission('f')).toEqual({ id: 'f', handler: 'h', payload: { of: 'f' }, priority: 2, maxRetries: 1, timeout: 50 });
    expect(retained.resubmission('c')).toMatchObject({ id: 'c', payload: { n: 1 } });
    expect(retained.resubmission('given-back')).toBeUndefined();
    expect(retained.resubmission('d')).toBeUndefined();
    retained.forget('c');
    expect(retained.resubmission('c')).toBeUndefined();
    retained.clear();
    expect(retained.resubmission('f')).toBeUndefined();
    expect(retained.page('failed', undefined, 10)).toEqual([]);
  });
});
