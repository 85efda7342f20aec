import { Queue } from './queue.js';

/** One priority's items: arrivals in order, and items put back, by their place in that order. */
interface Bucket<T> {
  readonly arrivals: Queue<T>;
  /** A min-heap by sequence number; created by the first put-back. */
  returned: T[] | undefined;
}

/**
 * A queue that hands out the highest priority first and, within a priority,
 * the oldest first. One FIFO bucket per priority in use, and a binary max-heap
 * of those priorities: a push or a take is O(1) within an existing priority
 * and O(log p) when a priority appears or empties, p being the number of
 * priorities in use (a handful, in practice). No sort per dispatch, and no
 * per-item heap entry.
 *
 * An item taken out and put back (`putBack`) returns to its place among its
 * priority, found by the sequence number `sequence(item)` gave it when it
 * arrived, so a task taken back from a thread does not lose its turn to
 * tasks that arrived after it. Put-backs wait in a small heap beside the
 * bucket: O(log r) each, r being the items put back and not yet taken.
 */
export class PriorityQueue<T> {
  readonly #buckets = new Map<number, Bucket<T>>();
  /** The priorities that have a bucket, as a max-heap. */
  readonly #heap: number[] = [];
  readonly #sequence: (item: T) => number;
  #size = 0;

  /** `sequence`: the item's place in arrival order, for `putBack`; arrivals must be pushed in increasing order of it. */
  constructor(sequence: (item: T) => number = () => 0) {
    this.#sequence = sequence;
  }

  get size(): number {
    return this.#size;
  }

  /** The highest priority waiting; `undefined` when empty. */
  get topPriority(): number | undefined {
    return this.#heap[0];
  }

  /** Adds an item behind every item of its priority. */
  push(item: T, priority: number): void {
    this.#bucket(priority).arrivals.push(item);
    this.#size++;
  }

  /** Returns a taken item to its place among its priority, by its sequence number. */
  putBack(item: T, priority: number): void {
    const bucket = this.#bucket(priority);
    const heap = (bucket.returned ??= []);
    const sequence = this.#sequence;
    const seq = sequence(item);
    let i = heap.push(item) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (sequence(heap[parent] as T) <= seq) break;
      heap[i] = heap[parent] as T;
      i = parent;
    }
    heap[i] = item;
    this.#size++;
  }

  shift(): T | undefined {
    const top = this.#heap[0];
    if (top === undefined) return undefined;
    const bucket = this.#buckets.get(top) as Bucket<T>;
    const item = this.#takeFrom(bucket);
    this.#size--;
    if (bucket.arrivals.size === 0 && !bucket.returned?.length) {
      this.#buckets.delete(top);
      this.#heapPop();
    }
    return item;
  }

  #takeFrom(bucket: Bucket<T>): T {
    const returned = bucket.returned;
    if (returned?.length) {
      const next = bucket.arrivals.peek();
      if (next === undefined || this.#sequence(returned[0] as T) < this.#sequence(next)) return this.#popReturned(returned);
    }
    return bucket.arrivals.shift() as T;
  }

  #popReturned(heap: T[]): T {
    const sequence = this.#sequence;
    const first = heap[0] as T;
    const last = heap.pop() as T;
    if (heap.length === 0) return first;
    const seq = sequence(last);
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && sequence(heap[right] as T) < sequence(heap[left] as T) ? right : left;
      if (sequence(heap[child] as T) >= seq) break;
      heap[i] = heap[child] as T;
      i = child;
    }
    heap[i] = last;
    return first;
  }

  #bucket(priority: number): Bucket<T> {
    let bucket = this.#buckets.get(priority);
    if (!bucket) {
      bucket = { arrivals: new Queue<T>(), returned: undefined };
      this.#buckets.set(priority, bucket);
      this.#heapPush(priority);
    }
    return bucket;
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
