import { Queue } from './queue.js';

/**
 * A queue that hands out the highest priority first and, within a priority,
 * the oldest first. One FIFO bucket per priority in use, and a binary max-heap
 * of those priorities: a push or a take is O(1) within an existing priority
 * and O(log p) when a priority appears or empties, p being the number of
 * priorities in use (a handful, in practice). No sort per dispatch, and no
 * per-item heap entry.
 */
export class PriorityQueue<T> {
  readonly #buckets = new Map<number, Queue<T>>();
  /** The priorities that have a bucket, as a max-heap. */
  readonly #heap: number[] = [];
  #size = 0;

  get size(): number {
    return this.#size;
  }

  push(item: T, priority: number): void {
    let bucket = this.#buckets.get(priority);
    if (!bucket) {
      bucket = new Queue<T>();
      this.#buckets.set(priority, bucket);
      this.#heapPush(priority);
    }
    bucket.push(item);
    this.#size++;
  }

  shift(): T | undefined {
    const top = this.#heap[0];
    if (top === undefined) return undefined;
    const bucket = this.#buckets.get(top) as Queue<T>;
    const item = bucket.shift() as T;
    this.#size--;
    if (bucket.size === 0) {
      this.#buckets.delete(top);
      this.#heapPop();
    }
    return item;
  }

  #heapPush(priority: number): void {
    const heap = this.#heap;
    let i = heap.push(priority) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((heap[parent] as number) >= priority) break;
      heap[i] = heap[parent] as number;
      i = parent;
    }
    heap[i] = priority;
  }

  #heapPop(): void {
    const heap = this.#heap;
    const last = heap.pop() as number;
    if (heap.length === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && (heap[right] as number) > (heap[left] as number) ? right : left;
      if ((heap[child] as number) <= last) break;
      heap[i] = heap[child] as number;
      i = child;
    }
    heap[i] = last;
  }
}
