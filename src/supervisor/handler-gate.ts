import { PriorityQueue } from '../util/priority-queue.js';
import { RateLimiter, type RateLimit } from '../util/rate-limiter.js';

/** Why a queued task is held back. */
export type BlockedBy = 'rateLimit' | 'handlerConcurrency';

/**
 * The limits of one handler (`handlerConcurrency`, `rateLimit.perHandler`),
 * owned by the supervisor. Tasks it cannot admit wait here, off the ready
 * queue, so they never block the tasks of other handlers; when an attempt
 * ends or the window slides, as many as it can now admit go back to the
 * ready queue at their priority: O(1) per task either way, however many wait.
 */
export class HandlerGate<T> {
  readonly held = new PriorityQueue<T>();
  /** Attempts of this handler in threads, running or waiting in a window. */
  running = 0;
  /** Tasks let back into the ready queue and not yet sent: their places are taken. */
  released = 0;
  /** Armed while tasks wait for the rate window to slide. */
  timer: unknown;
  readonly #cap: number | undefined;
  readonly #limiter: RateLimiter | undefined;

  constructor(cap: number | undefined, limit: RateLimit | undefined) {
    this.#cap = cap;
    this.#limiter = limit && new RateLimiter(limit);
  }

  /** What keeps one more attempt from being sent at `now`, if anything. */
  blocker(now: number): BlockedBy | undefined {
    if (this.#cap !== undefined && this.running + this.released >= this.#cap) return 'handlerConcurrency';
    if (this.#limiter && this.#limiter.available(now) - this.released <= 0) return 'rateLimit';
    return undefined;
  }

  /** An attempt was sent at `now`. */
  started(now: number): void {
    this.running++;
    this.#limiter?.record(now);
  }

  /** Ms until the rate window lets another start, 0 if it does or there is none. */
  wait(now: number): number {
    return this.#limiter ? this.#limiter.wait(now) : 0;
  }
}
