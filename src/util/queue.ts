/**
 * util/: data structures and small tools owned by whoever uses them: queues
 * (this file, priority-queue.ts, linked-list.ts), timers on one clock
 * (timer-queue.ts, clock.ts), bounded stores (result-store.ts), waiters
 * (conditions.ts, deferred.ts, abortable.ts, abort-reason.ts), a value
 * stream for many listeners (broadcast.ts), the sliding-window rate limiter
 * (rate-limiter.ts), the one input checker (validate.ts), a list reused
 * step after step (scratch-list.ts), random ids (uuid.ts), a dependency
 * loaded on first use (load-on-use.ts), starting a thread (threads.ts) and
 * whether a buffer was moved away (detached.ts). Nothing here knows tasks.
 */

/**
 * A queue emptied with more slots than this gives them back; a smaller one
 * keeps them for the next push. Small, because there is a queue per actor:
 * what each keeps while empty is at most 512 bytes.
 */
const KEEP_SLOTS = 64;

/**
 * A FIFO queue with O(1) push and shift. `Array.prototype.shift` is O(n) on
 * large arrays; this keeps a head index and compacts only when the dead
 * prefix outweighs the live part, so the cost stays amortised O(1). An
 * emptied queue starts over at slot 0 in the same array: a mailbox empties
 * after every message, and truncating it (`length = 0`) freed the array's
 * storage, so its next push allocated a new one.
 */
export class Queue<T> {
  #items: (T | undefined)[] = [];
  #head = 0;
  #tail = 0;

  get size(): number {
    return this.#tail - this.#head;
  }

  /** The item `shift` would return, left in place. */
  peek(): T | undefined {
    return this.#head < this.#tail ? this.#items[this.#head] : undefined;
  }

  push(item: T): void {
    this.#items[this.#tail++] = item;
  }

  shift(): T | undefined {
    if (this.#head === this.#tail) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head === this.#tail) {
      // Emptied: start over, so a queue that never holds much (one per actor, say) never grows a dead prefix.
      this.#head = this.#tail = 0;
      if (this.#items.length > KEEP_SLOTS) this.#items = [];
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#tail) {
      this.#items = this.#items.slice(this.#head, this.#tail);
      this.#tail -= this.#head;
      this.#head = 0;
    }
    return item;
  }
}
