import { type Clock, clockNow } from './clock.js';

interface Entry {
  readonly due: number;
  /** Breaks ties between equal due times: first set, first fired. */
  readonly seq: number;
  readonly fn: () => void;
  /** Position in the heap; -1 once fired or cleared. */
  index: number;
}

/**
 * Many timers on one: every machine delay of every task (backoff, attempt
 * timeout, a delayed start) goes into a min-heap by due time, and only the
 * earliest is armed on the underlying clock. A million delayed tasks cost a
 * million heap entries and one timer, not a million timers. Setting and
 * clearing are O(log n); a cleared timer leaves the heap at once, so timeouts
 * set and cleared at full throughput do not pile up.
 *
 * It is itself a `Clock`, so whatever takes a clock (XState actors included)
 * can run on it.
 */
export class TimerQueue implements Clock {
  readonly #clock: Clock;
  readonly #heap: Entry[] = [];
  #seq = 0;
  #armed: unknown;
  #armedDue = Infinity;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  get size(): number {
    return this.#heap.length;
  }

  now(): number {
    return clockNow(this.#clock);
  }

  setTimeout(fn: (...args: unknown[]) => void, ms: number): Entry {
    const entry: Entry = { due: this.now() + Math.max(0, ms), seq: this.#seq++, fn, index: this.#heap.length };
    this.#heap.push(entry);
    this.#up(entry.index);
    this.#arm();
    return entry;
  }

  clearTimeout(id: unknown): void {
    const entry = id as Entry;
    if (typeof entry !== 'object' || entry === null || entry.index < 0 || this.#heap[entry.index] !== entry) return;
    this.#remove(entry.index);
    if (this.#heap.length === 0) this.#disarm();
  }

  /** Arms the underlying clock for the earliest entry, if that changed. */
  #arm(): void {
    const first = this.#heap[0];
    if (!first) return this.#disarm();
    if (first.due >= this.#armedDue && this.#armed !== undefined) return;
    this.#disarm();
    this.#armedDue = first.due;
    this.#armed = this.#clock.setTimeout(() => this.#fire(), Math.max(0, first.due - this.now()));
  }

  #disarm(): void {
    if (this.#armed !== undefined) this.#clock.clearTimeout(this.#armed);
    this.#armed = undefined;
    this.#armedDue = Infinity;
  }

  #fire(): void {
    this.#armed = undefined;
    this.#armedDue = Infinity;
    const now = this.now();
    // Everything due fires, in due order; a callback may set or clear timers.
    for (let first = this.#heap[0]; first && first.due <= now; first = this.#heap[0]) {
      this.#remove(0);
      first.fn();
    }
    this.#arm();
  }

  #remove(index: number): void {
    const heap = this.#heap;
    const removed = heap[index] as Entry;
    removed.index = -1;
    const last = heap.pop() as Entry;
    if (index === heap.length) return;
    heap[index] = last;
    last.index = index;
    this.#up(index);
    this.#down(last.index);
  }

  #less(a: Entry, b: Entry): boolean {
    return a.due < b.due || (a.due === b.due && a.seq < b.seq);
  }

  #up(index: number): void {
    const heap = this.#heap;
    const entry = heap[index] as Entry;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex] as Entry;
      if (!this.#less(entry, parent)) break;
      heap[index] = parent;
      parent.index = index;
      index = parentIndex;
    }
    heap[index] = entry;
    entry.index = index;
  }

  #down(index: number): void {
    const heap = this.#heap;
    const entry = heap[index] as Entry;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && this.#less(heap[right] as Entry, heap[left] as Entry) ? right : left;
      const next = heap[child] as Entry;
      if (!this.#less(next, entry)) break;
      heap[index] = next;
      next.index = index;
      index = child;
    }
    heap[index] = entry;
    entry.index = index;
  }
}
