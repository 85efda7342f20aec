/** What a `Broadcast` calls: `next` per value, then `error` or `complete` once. */
export interface Listener<T> {
  next(value: T): void;
  error?(error: unknown): void;
  complete?(): void;
}

export interface Unsubscribable {
  unsubscribe(): void;
}

/**
 * Sends each value to everyone listening now, and then an end (`complete`
 * or `error`) that a later listener gets at once: what an rxjs `Subject`
 * does for Troupe's own streams (the processor's events, an actor's
 * snapshots), without loading rxjs, which only the public Observables need
 * (see `observe/rx.ts`). A listener that throws is reported as rxjs
 * reports one, on a later turn (an uncaught exception), and the others
 * still hear the value.
 */
export class Broadcast<T> {
  /** Replaced, never changed in place: a `next` goes to the listeners of the moment it started. */
  #listeners: ReadonlyArray<Listener<T>> = [];
  #end: { readonly error: unknown } | 'complete' | undefined;

  /** Someone listens: what a value costs to make is worth paying. */
  get observed(): boolean {
    return this.#listeners.length > 0;
  }

  next(value: T): void {
    if (this.#end) return;
    for (const listener of this.#listeners) {
      try {
        listener.next(value);
      } catch (error) {
        reportLater(error);
      }
    }
  }

  error(error: unknown): void {
    if (this.#end) return;
    this.#end = { error };
    for (const listener of this.#drop()) {
      try {
        listener.error?.(error);
      } catch (thrown) {
        reportLater(thrown);
      }
    }
  }

  complete(): void {
    if (this.#end) return;
    this.#end = 'complete';
    for (const listener of this.#drop()) {
      try {
        listener.complete?.();
      } catch (error) {
        reportLater(error);
      }
    }
  }

  /** Listens from now on; after the end, hears the end at once. */
  subscribe(listener: Listener<T> | ((value: T) => void)): Unsubscribable {
    const added: Listener<T> = typeof listener === 'function' ? { next: listener } : listener;
    const end = this.#end;
    if (end === 'complete') added.complete?.();
    else if (end) added.error?.(end.error);
    if (end) return { unsubscribe() {} };
    this.#listeners = [...this.#listeners, added];
    return {
      unsubscribe: () => {
        const at = this.#listeners.indexOf(added);
        if (at >= 0) this.#listeners = [...this.#listeners.slice(0, at), ...this.#listeners.slice(at + 1)];
      },
    };
  }

  #drop(): ReadonlyArray<Listener<T>> {
    const listeners = this.#listeners;
    this.#listeners = [];
    return listeners;
  }
}

function reportLater(error: unknown): void {
  setTimeout(() => {
    throw error;
  });
}
