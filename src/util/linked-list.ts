/** What an item of a {@link LinkedList} carries: its neighbours, owned by the list while it is in it. */
export interface Linked<T> {
  prev: T | undefined;
  next: T | undefined;
}

/**
 * A doubly linked list whose items carry their own links: O(1) push and
 * remove with no allocation, and a walk that starts after any item in it.
 * That walk is what a `Map` or `Set` cannot give: a page of a long list
 * after a cursor, at the cost of the page rather than of the whole list.
 * An item is in at most one list at a time.
 */
export class LinkedList<T extends Linked<T>> {
  #head: T | undefined;
  #tail: T | undefined;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** The oldest item. */
  get head(): T | undefined {
    return this.#head;
  }

  push(item: T): void {
    item.prev = this.#tail;
    item.next = undefined;
    if (this.#tail) this.#tail.next = item;
    else this.#head = item;
    this.#tail = item;
    this.#size++;
  }

  /** Unlinks `item`, which must be in this list. */
  remove(item: T): void {
    if (item.prev) item.prev.next = item.next;
    else this.#head = item.next;
    if (item.next) item.next.prev = item.prev;
    else this.#tail = item.prev;
    item.prev = undefined;
    item.next = undefined;
    this.#size--;
  }

  clear(): void {
    this.#head = undefined;
    this.#tail = undefined;
    this.#size = 0;
  }

  /** Up to `limit` items, oldest first, from the one after `after` (from the head without it). `after` must be in this list. */
  slice(after: T | undefined, limit: number): T[] {
    const items: T[] = [];
    for (let item = after ? after.next : this.#head; item && items.length < limit; item = item.next) items.push(item);
    return items;
  }
}
