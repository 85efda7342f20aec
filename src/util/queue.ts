/**
 * util/: data structures and small tools owned by whoever uses them: queues
 * (this file, priority-queue.ts), timers on one clock (timer-queue.ts,
 * clock.ts), bounded stores (result-store.ts), waiters (conditions.ts,
 * deferred.ts, abortable.ts), the sliding-window rate limiter and the one input checker
 * (validate.ts). Nothing here knows tasks or threads.
 */

/**
 * A FIFO queue with O(1) push and shift. `Array.prototype.shift` is O(n) on
 * large arrays; this keeps a head index and compacts only when the dead
 * prefix outweighs the live part, so the cost stays amortised O(1).
 */
export class Queue<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  get size(): number {
    return this.#items.length - this.#head;
  }

  /** The item `shift` would return, left in place. */
  peek(): T | undefined {
    return this.#head < this.#items.length ? this.#items[this.#head] : undefined;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head === this.#items.length) {
      // Emptied: start over, so a queue that never holds much (one per actor, say) never grows a dead prefix.
      this.#items.length = 0;
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }
}
