/**
 * Finished results, bounded: past `max` entries the oldest is forgotten. A
 * `Map` iterates in insertion order, so the oldest is always the first key
 * and eviction is O(1).
 */
export class ResultStore<V> {
  readonly #entries = new Map<string, V>();
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
  set(id: string, value: V): void {
    this.#entries.delete(id);
    if (this.#max === 0) return;
    this.#entries.set(id, value);
    if (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
  }

  delete(id: string): boolean {
    return this.#entries.delete(id);
  }

  clear(): void {
    this.#entries.clear();
  }

  entries(): IterableIterator<[string, V]> {
    return this.#entries.entries();
  }
}
