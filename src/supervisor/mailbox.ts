import { Queue } from '../util/queue.js';

/**
 * An actor's mailbox (as XState's `Mailbox.ts`): messages are processed one
 * at a time, each to completion, in the order sent; a message sent while
 * one is being processed waits its turn, so the actor is never re-entered.
 * Effects (user callbacks, promise resolutions, events to subscribers) are
 * deferred until the mailbox is empty: user code never runs in the middle
 * of a change and never sees a half-applied one, and it may send again
 * (a callback may `submit`) without re-entering the actor.
 */
export class Mailbox<M> {
  readonly #messages = new Queue<M>();
  readonly #effects = new Queue<() => void>();
  readonly #process: (message: M) => void;
  readonly #settled: () => void;
  readonly #release: (run: () => void) => void;
  #processing = false;
  #running = false;

  /**
   * `settled` runs each time the mailbox has been emptied, before the
   * effects; `release` decides when they run (at once, unless a store makes
   * them wait for the commit that holds their change).
   */
  constructor(process: (message: M) => void, settled: () => void, release: (run: () => void) => void = (run) => run()) {
    this.#process = process;
    this.#settled = settled;
    this.#release = release;
  }

  send(message: M): void {
    this.#messages.push(message);
    if (this.#processing) return;
    this.#processing = true;
    try {
      for (let next = this.#messages.shift(); next !== undefined; next = this.#messages.shift()) this.#process(next);
    } finally {
      this.#processing = false;
    }
    this.#settled();
    this.#release(this.#runEffects);
  }

  /** Runs `effect` once every message now in the mailbox has been processed. */
  defer(effect: () => void): void {
    this.#effects.push(effect);
  }

  readonly #runEffects = (): void => {
    if (this.#running) return;
    this.#running = true;
    try {
      for (let next = this.#effects.shift(); next !== undefined; next = this.#effects.shift()) next();
    } finally {
      this.#running = false;
    }
  };
}
