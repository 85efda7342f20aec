import { backoffDelay } from '../machines/backoff.js';
import type { ResolvedRestart } from '../options/types.js';

/**
 * When to restart a crashed thread, and when to stop trying (Erlang/OTP's
 * restart intensity): each restart waits longer than the last, from
 * `minDelay` up to `maxDelay`, and more than `maxRestarts` restarts within
 * `window` ms means something is broken that restarting will not fix.
 * It keeps at most `maxRestarts + 1` timestamps.
 */
export class RestartPolicy {
  readonly #options: ResolvedRestart;
  readonly #random: () => number;
  #recent: number[] = [];

  constructor(options: ResolvedRestart, random: () => number = Math.random) {
    this.#options = options;
    this.#random = random;
  }

  /**
   * Records a restart at `now` (ms). Returns the wait before it, or
   * `undefined` when it would exceed the intensity and must not happen.
   */
  next(now: number): number | undefined {
    const { minDelay, maxDelay, jitter, maxRestarts, window } = this.#options;
    this.#recent = this.#recent.filter((at) => now - at < window);
    this.#recent.push(now);
    if (this.#recent.length > maxRestarts) return undefined;
    return backoffDelay(this.#recent.length, { delay: minDelay, factor: 2, maxDelay, jitter }, this.#random);
  }
}
