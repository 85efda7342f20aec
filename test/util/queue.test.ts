import { describe, expect, it } from 'vitest';

import { Queue } from '../../src/util/queue.js';
import { ResultStore } from '../../src/util/result-store.js';

describe('Queue', () => {
  it('is first in, first out across compactions', () => {
    const queue = new Queue<number>();
    const out: number[] = [];
    for (let i = 0; i < 5_000; i++) {
      queue.push(i);
      if (i % 3 === 0) out.push(queue.shift()!);
    }
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) out.push(next);
    expect(out).toEqual(Array.from({ length: 5_000 }, (_, i) => i));
    expect(queue.size).toBe(0);
  });

  it('starts over after emptying, in order, whether it held a few or more than it keeps room for', () => {
    const queue = new Queue<number>();
    for (const count of [3, 1, 64, 65, 2_000, 5, 0, 2]) {
      for (let i = 0; i < count; i++) queue.push(i);
      expect(queue.size).toBe(count);
      expect(queue.peek()).toBe(count > 0 ? 0 : undefined);
      const out: number[] = [];
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) out.push(next);
      expect(out).toEqual(Array.from({ length: count }, (_, i) => i));
      expect([queue.size, queue.peek(), queue.shift()]).toEqual([0, undefined, undefined]);
    }
  });
});

interface Entry {
  readonly id: string;
  readonly n: number;
}

const plain = (store: ResultStore<Entry>) => [...store.entries()].map(([id, { n }]) => [id, n]);

describe('ResultStore', () => {
  it('forgets the oldest entry past its bound', () => {
    const store = new ResultStore<Entry>(3);
    for (let i = 0; i < 5; i++) store.set({ id: `k${i}`, n: i });
    expect([...store.entries()].map(([k]) => k)).toEqual(['k2', 'k3', 'k4']);
  });

  it('a replaced entry becomes the newest', () => {
    const store = new ResultStore<Entry>(2);
    store.set({ id: 'a', n: 1 });
    store.set({ id: 'b', n: 2 });
    store.set({ id: 'a', n: 3 });
    store.set({ id: 'c', n: 4 });
    expect(plain(store)).toEqual([
      ['a', 3],
      ['c', 4],
    ]);
  });

  it('skips deleted and replaced entries when evicting, and stays bounded under churn', () => {
    const store = new ResultStore<Entry>(3);
    for (let round = 0; round < 5_000; round++) {
      store.set({ id: 'same', n: round });
      store.set({ id: `k${round}`, n: round });
      store.delete(`k${round}`);
    }
    expect(plain(store)).toEqual([['same', 4_999]]);
    store.set({ id: 'x', n: 1 });
    store.set({ id: 'y', n: 2 });
    store.set({ id: 'z', n: 3 });
    expect([...store.entries()].map(([k]) => k)).toEqual(['x', 'y', 'z']);
  });

  it('keeps nothing with a bound of 0', () => {
    const store = new ResultStore<Entry>(0);
    store.set({ id: 'a', n: 1 });
    expect(store.size).toBe(0);
  });
});
