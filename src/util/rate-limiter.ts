/** `max` starts per `interval` ms. */
export interface RateLimit {
  readonly max: number;
  readonly interval: number;
}

/**
 * A sliding-window limit: at most `max` starts in any `interval` ms. It keeps
 * the times of the starts still inside the window in a ring of `max` slots,
 * oldest first; the ones that slid out are dropped from the front as time
 * passes, so every call is amortised O(1) and the memory is `max` numbers.
 * Exact, unlike a fixed window, which lets 2 × max through around a window
 * boundary.
 */
export class RateLimiter {
  readonly #max: number;
  readonly #interval: number;
  readonly #starts: Float64Array;
  #head = 0;
  #count = 0;

  constructor({ max, interval }: RateLimit) {
    this.#max = max;
    this.#interval = interval;
    this.#starts = new Float64Array(max);
  }

  /** Starts allowed at `now`. */
  available(now: number): number {
    this.#expire(now);
    return this.#max - this.#count;
  }

  /** Ms from `now` until a start is allowed; 0 if one is. */
  wait(now: number): number {
    this.#expire(now);
    if (this.#count < this.#max) return 0;
    return (this.#starts[this.#head] as number) + this.#interval - now;
  }

  /** Counts a start at `now`; the caller checked `available(now) > 0`. */
  record(now: number): void {
    this.#expire(now);
    this.#starts[(this.#head + this.#count) % this.#max] = now;
    if (this.#count < this.#max) this.#count++;
    else this.#head = (this.#head + 1) % this.#max;
  }

  #expire(now: number): void {
    while (this.#count > 0 && (this.#starts[this.#head] as number) + this.#interval <= now) {
      this.#head = (this.#head + 1) % this.#max;
      this.#count--;
    }
  }
}
