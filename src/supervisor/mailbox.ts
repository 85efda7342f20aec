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
  /** Effects deferred so far, run so far, and allowed to run (released): counts, so each drain releases its own. */
  #deferred = 0;
  #ran = 0;
  #allowed = 0;

  /**
   * `settled` runs each time the mailbox has been emptied, before the
   * effects; `release` decides when they run (at once, unless a store makes
   * them wait for the commit that holds their change). Each emptying
   * releases the effects deferred up to then, and only those: with a store,
   * one commit's acknowledgement must not run the effects of a later message
   * whose change is in the next commit.
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
    const upTo = this.#deferred;
    if (upTo > this.#allowed) this.#release(() => this.#runTo(upTo));
  }

  /** Runs `effect` once every message now in the mailbox has been processed. */
  defer(effect: () => void): void {
    this.#effects.push(effect);
    this.#deferred++;
  }

  /** Runs the effects, in order, up to the `upTo`-th deferred (a nested release extends the run in progress). */
  #runTo(upTo: number): void {
    if (upTo > this.#allowed) this.#allowed = upTo;
    if (this.#running) return;
    this.#running = true;
    try {
      while (this.#ran < this.#allowed) {
        const effect = this.#effects.shift() as () => void;
        this.#ran++;
        effect();
      }
    } finally {
      this.#running = false;
    }
  }
}
