import { describe, expect, it } from 'vitest';
import type { InspectionEvent } from 'xstate';

import { nextEvent, useProcessor } from '../helpers/index.js';

const make = useProcessor({ workers: 1 });

describe('inspection', () => {
  it("shows a task's whole path as an XState actor named troupe.task.<id>", async () => {
    const seen: InspectionEvent[] = [];
    const processor = make({ backoff: { delay: 0 }, inspect: (event) => seen.push(event) });
    processor.submit({ id: 't1', handler: 'flaky', payload: { succeedOn: 2 } });
    await processor.result('t1');
    const mine = seen.filter((event) => (event.actorRef as { id?: string }).id === 'troupe.task.t1');
    expect(mine.some((event) => event.type === '@xstate.actor')).toBe(true);
    const path: string[] = [];
    for (const event of mine) {
      if (event.type !== '@xstate.snapshot') continue;
      const value = (event.snapshot as unknown as { value: unknown }).value;
      const state = typeof value === 'string' ? value : Object.keys(value as object)[0]!;
      if (path.at(-1) !== state) path.push(state);
    }
    expect(path).toEqual(['queued', 'processing', 'retrying', 'queued', 'processing', 'done']);
    const events = mine.filter((event) => event.type === '@xstate.event').map((event) => event.event.type);
    expect(events).toEqual(expect.arrayContaining(['task.dispatch', 'task.fail', 'task.succeed']));
  });

  it('shows where a queued task waits as a sub-state of queued, with the limit that holds it', async () => {
    const seen: InspectionEvent[] = [];
    const processor = make({ handlerConcurrency: { waitForAbort: 1 }, inspect: (event) => seen.push(event) });
    const started = nextEvent(processor.events, 'task.started');
    processor.submit({ id: 'a', handler: 'waitForAbort', payload: null });
    processor.submit({ id: 'b', handler: 'waitForAbort', payload: null });
    await started;
    const snapshotsOf = (id: string) =>
      seen.flatMap((event) =>
        event.type === '@xstate.snapshot' && event.actorRef.sessionId === `troupe.task.${id}`
          ? [event.snapshot as unknown as { value: unknown; context: { heldBy?: string } }]
          : [],
      );
    expect(snapshotsOf('b').at(-1)).toMatchObject({ value: { queued: 'held' }, context: { heldBy: 'handlerConcurrency' } });
    expect(processor.getTask('b')).toMatchObject({ state: 'queued', waitingFor: 'handlerConcurrency' });
    const bStarted = nextEvent(processor.events, 'task.started');
    processor.cancel('a');
    await bStarted;
    const path = snapshotsOf('b').map(({ value }) => JSON.stringify(value));
    expect(path.filter((value, i) => value !== path[i - 1])).toEqual([
      '{"queued":"ready"}',
      '{"queued":"held"}',
      '{"queued":"ready"}',
      '"processing"',
    ]);
    processor.cancel('b');
  });

  it('an observer attached later sees the supervisor and workers at once, then every task; unsubscribing stops it', async () => {
    const processor = make();
    await processor.ready;
    const seen: InspectionEvent[] = [];
    const subscription = processor.inspect((event) => seen.push(event));
    const actors = seen.filter((event) => event.type === '@xstate.actor').map((event) => event.actorRef.sessionId);
    expect(actors).toEqual(expect.arrayContaining(['troupe.supervisor', 'troupe.worker.1']));
    const supervisor = seen.find((event) => event.type === '@xstate.snapshot' && event.actorRef.sessionId === 'troupe.supervisor');
    expect(supervisor?.type === '@xstate.snapshot' && supervisor.snapshot).toMatchObject({ status: 'active', value: 'running' });
    await processor.result(processor.submit({ id: 'late', payload: 1 }));
    const ids = new Set(seen.map((event) => event.actorRef.sessionId));
    expect(ids.has('troupe.task.late')).toBe(true);
    const runs = seen.filter((event) => event.type === '@xstate.event' && event.actorRef.sessionId === 'troupe.worker.1');
    expect(runs.map((event) => event.type === '@xstate.event' && event.event)).toEqual([
      expect.objectContaining({ type: 'attempt.run', id: 'late' }),
    ]);
    subscription.unsubscribe();
    const count = seen.length;
    await processor.result(processor.submit({ payload: 2 }));
    expect(seen.length).toBe(count);
  });

  it('an observer that throws harms nothing', async () => {
    const processor = make({
      inspect: () => {
        throw new Error('observer bug');
      },
    });
    expect(await processor.result(processor.submit({ payload: 'fine' }))).toMatchObject({ status: 'done', value: 'fine' });
  });

  it('refuses something that is not an observer', () => {
    expect(() => make().inspect(42 as never)).toThrow(/inspection observer/);
  });
});
