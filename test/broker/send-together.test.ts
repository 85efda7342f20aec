import { describe, expect, it } from 'vitest';

import { SendTogether } from '../../src/broker/send-together.js';

describe('SendTogether', () => {
  it('lets every caller before the deferred run continue together, in the order they asked, and starts afresh after', async () => {
    const runs: Array<() => void> = [];
    const together = new SendTogether((run) => runs.push(run));
    const order: string[] = [];
    const first = together.ready().then(() => order.push('a'));
    const second = together.ready().then(() => order.push('b'));
    expect(runs).toHaveLength(1); // one deferral for both
    await Promise.resolve();
    expect(order).toEqual([]); // nothing goes before the deferral runs
    runs[0]?.();
    await Promise.all([first, second]);
    expect(order).toEqual(['a', 'b']);
    const third = together.ready();
    expect(runs).toHaveLength(2); // the next caller waits for the next run
    runs[1]?.();
    await third;
  });

  it('with process.nextTick, continues after the microtasks already queued', async () => {
    const together = new SendTogether((run) => process.nextTick(run));
    const order: string[] = [];
    const gathered = together.ready().then(() => order.push('gathered'));
    void Promise.resolve().then(() => order.push('microtask'));
    await gathered;
    expect(order).toEqual(['microtask', 'gathered']);
  });
});
