/** Where a step puts what it makes (an array does: `push`). */
export interface Sink<T> {
  push(item: T): unknown;
}

/**
 * A list filled and emptied again and again (what one machine step
 * produces), keeping its storage between uses. Emptying an array with
 * `length = 0` gives V8's storage for it back, so the next step's first
 * push allocated a new one: a few per task, on the path every task takes.
 */
export class ScratchList<T> implements Sink<T> {
  readonly #items: (T | undefined)[] = [];
  #size = 0;

  get size(): number {
    return this.#size;
  }

  push(item: T): void {
    this.#items[this.#size++] = item;
  }

  /** The `i`-th item pushed since the last `clear` (`i` < `size`). */
  at(i: number): T {
    return this.#items[i] as T;
  }

  /** Empties it, keeping its storage, and lets go of the items. */
  clear(): void {
    for (let i = 0; i < this.#size; i++) this.#items[i] = undefined;
    this.#size = 0;
  }
}
