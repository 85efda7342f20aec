import { describe, expect, it } from 'vitest';

import { PriorityQueue } from '../../src/util/priority-queue.js';

describe('PriorityQueue', () => {
  it('takes the highest priority first, oldest first within one, against a sorted reference', () => {
    const queue = new PriorityQueue<number>();
    const reference: Array<[number, number]> = [];
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    let next = 0;
    const taken: number[] = [];
    const expected: number[] = [];
    for (let step = 0; step < 20_000; step++) {
      if (random() < 0.55) {
        const priority = Math.floor(random() * 9) - 4;
        queue.push(next, priority);
        reference.push([priority, next++]);
      } else {
        taken.push(queue.shift() ?? -1);
        // Highest priority, then lowest sequence number.
        let best = -1;
        for (let i = 0; i < reference.length; i++) {
          const [p, n] = reference[i] as [number, number];
          const [bp, bn] = reference[best] ?? [-Infinity, Infinity];
          if (p > bp || (p === bp && n < bn)) best = i;
        }
        expected.push(best === -1 ? -1 : (reference.splice(best, 1)[0] as [number, number])[1]);
      }
      expect(queue.size).toBe(reference.length);
    }
    expect(taken).toEqual(expected);
  });
});

describe('PriorityQueue.putBack', () => {
  it('returns a taken item to its place among its priority, against a sorted reference', () => {
    // Items are their own sequence numbers: an item put back goes before every later arrival of its priority.
    const queue = new PriorityQueue<number>((item) => item);
    const priorityOf = new Map<number, number>();
    const reference: Array<[number, number]> = [];
    const out: number[] = [];
    let seed = 11;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    let next = 0;
    const best = () => {
      let index = -1;
      for (let i = 0; i < reference.length; i++) {
        const [p, n] = reference[i] as [number, number];
        const [bp, bn] = reference[index] ?? [-Infinity, Infinity];
        if (p > bp || (p === bp && n < bn)) index = i;
      }
      return index === -1 ? -1 : (reference.splice(index, 1)[0] as [number, number])[1];
    };
    for (let step = 0; step < 20_000; step++) {
      const roll = random();
      if (roll < 0.45) {
        const priority = Math.floor(random() * 4);
        priorityOf.set(next, priority);
        queue.push(next, priority);
        reference.push([priority, next++]);
      } else if (roll < 0.7 && out.length > 0) {
        const item = out.splice(Math.floor(random() * out.length), 1)[0] as number;
        queue.putBack(item, priorityOf.get(item) as number);
        reference.push([priorityOf.get(item) as number, item]);
      } else {
        const taken = queue.shift() ?? -1;
        expect(taken).toBe(best());
        if (taken !== -1) out.push(taken);
      }
      expect(queue.size).toBe(reference.length);
      expect(queue.topPriority).toBe(reference.length === 0 ? undefined : Math.max(...reference.map(([p]) => p)));
    }
  });
});
