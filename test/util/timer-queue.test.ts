import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';

import { TimerQueue } from '../../src/util/timer-queue.js';

/** How many timers are pending on a simulated clock. */
function pending(clock: SimulatedClock): number {
  return (clock as unknown as { timeouts: Map<unknown, unknown> }).timeouts.size;
}

describe('TimerQueue', () => {
  it('fires in due order (set order on ties) with one timer armed on its clock', () => {
    const clock = new SimulatedClock();
    const timers = new TimerQueue(clock);
    const fired: string[] = [];
    timers.setTimeout(() => fired.push('b'), 20);
    timers.setTimeout(() => fired.push('a'), 10);
    timers.setTimeout(() => fired.push('c'), 20);
    timers.setTimeout(() => fired.push('d'), 30);
    expect(pending(clock)).toBe(1);
    clock.increment(20);
    expect(fired).toEqual(['a', 'b', 'c']);
    expect(pending(clock)).toBe(1);
    clock.increment(10);
    expect(fired).toEqual(['a', 'b', 'c', 'd']);
    expect(pending(clock)).toBe(0);
  });

  it('agrees with a reference on random sets, clears and time steps', () => {
    const clock = new SimulatedClock();
    const timers = new TimerQueue(clock);
    let seed = 99;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const live = new Map<number, { due: number; handle: unknown }>();
    const fired: number[] = [];
    let expected: number[] = [];
    let next = 0;
    for (let step = 0; step < 5_000; step++) {
      const roll = random();
      if (roll < 0.5) {
        const n = next++;
        const ms = Math.floor(random() * 100);
        live.set(n, { due: clock.now() + ms, handle: timers.setTimeout(() => fired.push(n), ms) });
      } else if (roll < 0.75 && live.size > 0) {
        const keys = [...live.keys()];
        const n = keys[Math.floor(random() * keys.length)] as number;
        timers.clearTimeout(live.get(n)?.handle);
        live.delete(n);
      } else {
        const ms = Math.floor(random() * 30);
        const until = clock.now() + ms;
        const due = [...live].filter(([, t]) => t.due <= until).sort(([a, x], [b, y]) => x.due - y.due || a - b);
        expected = expected.concat(due.map(([n]) => n));
        for (const [n] of due) live.delete(n);
        clock.increment(ms);
        expect(fired).toEqual(expected);
      }
      expect(timers.size).toBe(live.size);
      expect(pending(clock)).toBe(live.size > 0 ? 1 : 0);
    }
  });

  it('a million timers cost one timer on the clock', () => {
    const clock = new SimulatedClock();
    const timers = new TimerQueue(clock);
    let count = 0;
    for (let i = 0; i < 1_000_000; i++) timers.setTimeout(() => count++, 1_000 + (i % 5_000));
    expect(pending(clock)).toBe(1);
    clock.increment(10_000);
    expect(count).toBe(1_000_000);
    expect(timers.size).toBe(0);
  });
});
