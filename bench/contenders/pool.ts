/**
 * The one interface every contender is driven through, so that every scenario
 * runs identical driver code and only the pool under it changes.
 */

/** The exports of bench/workers/handlers.mjs that tasks name. */
export type HandlerName = 'noop' | 'cpu' | 'flaky' | 'sleep';

export interface Pool {
  /**
   * True when the pool retries a failed task by itself (Troupe). The peers
   * have no retry, so for them the driver resubmits a failed task once.
   */
  readonly retries: boolean;
  /** Runs one task; resolves with its value, rejects with its error. */
  run(handler: HandlerName, payload: unknown): Promise<unknown>;
  /** Stops the threads. Never timed. */
  close(): Promise<void>;
}

/** What a scenario may ask of a pool beyond the contender's own settings. */
export interface PoolOptions {
  /** Failed tasks will be retried: Troupe retries at once (`backoff.delay: 0`). */
  readonly retry?: boolean;
}

/** Every contender uses the same thread count, so only the pool's design differs. */
export const THREADS = 2;

/** The shared handler module, as a `file:` URL. */
export const HANDLERS = new URL('../workers/handlers.mjs', import.meta.url);
