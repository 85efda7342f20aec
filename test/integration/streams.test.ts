/** The rxjs side: events by type, one task's snapshots, the status stream. */
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';

import { ofType, type ProcessorStatus, type TaskInfo, UnknownTaskError } from '../../src/index.js';
import { useProcessor } from '../helpers/index.js';

const make = useProcessor({ workers: 1 });

describe('streams', () => {
  it('task$ follows one task through every state and completes at its final one', async () => {
    const p = make({ backoff: { delay: 0 } });
    await p.ready;
    const id = p.submit({ id: 'flaky', handler: 'flaky', payload: { succeedOn: 2 } });
    const states = await lastValueFrom(p.task$(id).pipe(toArray()));
    const path = states.map((task) => task.state).filter((state, i, all) => state !== all[i - 1]);
    expect(path.slice(-4)).toEqual(['retrying', 'queued', 'processing', 'done']);
    expect(states.at(-1)).toMatchObject({ state: 'done', attempts: 2 });
  });

  it('task$ of a finished task emits it once and completes; of an unknown id, errors', async () => {
    const p = make();
    const id = p.submit({ payload: 1 });
    await p.result(id);
    expect(await lastValueFrom(p.task$(id).pipe(toArray()))).toEqual([expect.objectContaining({ id, state: 'done' })]);
    await expect(firstValueFrom(p.task$('nope'))).rejects.toBeInstanceOf(UnknownTaskError);
  });

  it('many task$ streams each get only their own task', async () => {
    const p = make();
    const ids = Array.from({ length: 50 }, (_, i) => p.submit({ id: `t${i}`, payload: i }));
    const all = await Promise.all(ids.map((id) => lastValueFrom(p.task$(id).pipe(toArray()))));
    all.forEach((states: TaskInfo[], i) => {
      expect(states.every((task) => task.id === `t${i}`)).toBe(true);
      expect(states.at(-1)?.state).toBe('done');
    });
  });

  it('status$ gives the status at once, then at most one per tick, and completes after shutdown', async () => {
    const p = make();
    await p.ready;
    const seen: ProcessorStatus[] = [];
    const done = lastValueFrom(p.status$.pipe(toArray()));
    p.status$.subscribe((status) => seen.push(status));
    expect(seen).toHaveLength(1);
    const ids = Array.from({ length: 200 }, (_, i) => p.submit({ payload: i }));
    expect(seen).toHaveLength(1); // 200 submits in one tick: nothing yet
    await Promise.resolve();
    await Promise.resolve();
    expect(seen).toHaveLength(2); // then one status for all of them
    expect((seen[1]?.queued ?? 0) + (seen[1]?.processing ?? 0)).toBeGreaterThan(0);
    await Promise.all(ids.map((id) => p.result(id)));
    await p.shutdown();
    const all = await done;
    expect(all.at(-1)).toMatchObject({ done: 200, shutdown: true });
    expect(all.length).toBeLessThan(200);
  });

  it('ofType keeps the events of the given types', async () => {
    const p = make();
    const finished = firstValueFrom(p.events.pipe(ofType('task.done', 'task.failed')));
    const id = p.submit({ payload: 'x' });
    const event = await finished;
    expect(event).toMatchObject({ type: 'task.done', id });
  });
});
