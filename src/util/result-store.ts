import { Queue } from './queue.js';

/**
 * Finished results, bounded: past `max` entries the oldest is forgotten.
 *
 * The order of arrival is kept in a queue beside the map, not read from the
 * map's own insertion order: V8 leaves a deleted `Map` entry as a hole until
 * the table is rebuilt, so evicting from the front with `keys().next()` walks
 * every hole left by the evictions before it. That made this store a fifth of
 * the main thread's time at 10,000 results. Entries replaced or deleted stay
 * in the queue as stale ones, skipped when they reach its front.
 */
export class ResultStore<V extends { readonly id: string }> {
  readonly #entries = new Map<string, V>();
  #order = new Queue<V>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(id: string): V | undefined {
    return this.#entries.get(id);
  }

  /** Stores as the newest entry, replacing any older result of the same id. */
  set(value: V): void {
    const { id } = value;
    // Deleted first so the map, too, iterates oldest first.
    this.#entries.delete(id);
    if (this.#max === 0) return;
    this.#entries.set(id, value);
    this.#order.push(value);
    while (this.#entries.size > this.#max) {
      const oldest = this.#order.shift() as V;
      if (this.#entries.get(oldest.id) === oldest) this.#entries.delete(oldest.id);
    }
    // Many replacements or deletions leave many stale entries: rebuild the queue from the live ones.
    if (this.#order.size > 2 * this.#entries.size + 1_024) {
      this.#order = new Queue();
      for (const live of this.#entries.values()) this.#order.push(live);
    }
  }

  delete(id: string): boolean {
    return this.#entries.delete(id);
  }

  clear(): void {
    this.#entries.clear();
    this.#order = new Queue();
  }

  entries(): IterableIterator<[string, V]> {
    return this.#entries.entries();
  }
}
