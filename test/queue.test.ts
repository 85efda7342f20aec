import { describe, expect, it } from 'vitest';
import { Queue } from '../src/queue.js';
import { ResultStore } from '../src/result-store.js';

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
});

describe('ResultStore', () => {
  it('forgets the oldest entry past its bound', () => {
    const store = new ResultStore<number>(3);
    for (let i = 0; i < 5; i++) store.set(`k${i}`, i);
    expect([...store.entries()].map(([k]) => k)).toEqual(['k2', 'k3', 'k4']);
  });

  it('a replaced entry becomes the newest', () => {
    const store = new ResultStore<number>(2);
    store.set('a', 1);
    store.set('b', 2);
    store.set('a', 3);
    store.set('c', 4);
    expect([...store.entries()]).toEqual([
      ['a', 3],
      ['c', 4],
    ]);
  });

  it('skips deleted and replaced entries when evicting, and stays bounded under churn', () => {
    const store = new ResultStore<number>(3);
    for (let round = 0; round < 5_000; round++) {
      store.set('same', round);
      store.set(`k${round}`, round);
      store.delete(`k${round}`);
    }
    expect([...store.entries()]).toEqual([['same', 4_999]]);
    store.set('x', 1);
    store.set('y', 2);
    store.set('z', 3);
    expect([...store.entries()].map(([k]) => k)).toEqual(['x', 'y', 'z']);
  });

  it('keeps nothing with a bound of 0', () => {
    const store = new ResultStore<number>(0);
    store.set('a', 1);
    expect(store.size).toBe(0);
  });
});
