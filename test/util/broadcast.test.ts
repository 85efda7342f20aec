import { afterEach, describe, expect, it, vi } from 'vitest';

import { Broadcast } from '../../src/util/broadcast.js';

describe('Broadcast', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends each value to everyone listening at that moment, in the order they subscribed', () => {
    const broadcast = new Broadcast<number>();
    const heard: string[] = [];
    expect(broadcast.observed).toBe(false);
    broadcast.next(0); // nobody listens: lost, as with a Subject
    const first = broadcast.subscribe((value) => heard.push(`a${value}`));
    broadcast.subscribe({ next: (value) => heard.push(`b${value}`) });
    expect(broadcast.observed).toBe(true);
    broadcast.next(1);
    first.unsubscribe();
    broadcast.next(2);
    expect(heard).toEqual(['a1', 'b1', 'b2']);
  });

  it('keeps a value to the listeners of the moment it was sent, when one subscribes or leaves meanwhile', () => {
    const broadcast = new Broadcast<number>();
    const heard: string[] = [];
    let late: { unsubscribe(): void } | undefined;
    const second = { next: (value: number) => heard.push(`second${value}`) };
    broadcast.subscribe((value) => {
      heard.push(`first${value}`);
      late ??= broadcast.subscribe((v) => heard.push(`late${v}`));
      subscription.unsubscribe();
    });
    const subscription = broadcast.subscribe(second);
    broadcast.next(1);
    broadcast.next(2);
    late?.unsubscribe();
    expect(heard).toEqual(['first1', 'second1', 'first2', 'late2']);
  });

  it('ends once: a listener that comes later hears the end at once, and nothing after it is sent', () => {
    const completed = new Broadcast<number>();
    const ends: string[] = [];
    completed.subscribe({ next: () => ends.push('next'), complete: () => ends.push('complete') });
    completed.complete();
    completed.complete();
    completed.next(1);
    completed.subscribe({ next: () => ends.push('next'), complete: () => ends.push('complete, late') });
    expect(completed.observed).toBe(false);

    const failed = new Broadcast<number>();
    const boom = new Error('boom');
    failed.subscribe({ next: () => {}, error: (error) => ends.push(`error ${(error as Error).message}`) });
    failed.error(boom);
    failed.complete();
    failed.subscribe({ next: () => {}, error: (error) => ends.push(`error ${(error as Error).message}, late`) });
    expect(ends).toEqual(['complete', 'complete, late', 'error boom', 'error boom, late']);
  });

  it('reports a listener that throws on a later turn, as rxjs does, and still sends the value to the others', () => {
    vi.useFakeTimers();
    const broadcast = new Broadcast<number>();
    const heard: number[] = [];
    broadcast.subscribe(() => {
      throw new Error('a broken listener');
    });
    broadcast.subscribe((value) => heard.push(value));
    broadcast.next(7);
    expect(heard).toEqual([7]);
    expect(() => vi.runAllTimers()).toThrow('a broken listener');
  });
});
