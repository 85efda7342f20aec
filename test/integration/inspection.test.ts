import type { InspectionEvent } from 'xstate';
import { describe, expect, it } from 'vitest';
import { useProcessor } from '../helpers/index.js';

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
});
