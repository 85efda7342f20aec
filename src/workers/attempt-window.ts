/**
 * How many attempts a thread takes: `concurrency` to run at once, and a
 * window of `window` more waiting behind them, so that the thread never
 * idles while the main thread prepares its next task.
 *
 * The window is refilled only once it is half empty, and then to the brim:
 * so a message to the thread carries at least half a window, not the one or
 * two tasks each answer freed. That hysteresis is the one thing it keeps;
 * it is not a phase of the thread's life, so it lives here and not in
 * `WorkerLifecycle`. Owned by a worker actor, which tells it how many
 * attempts its thread holds after each change (`follow`). Its checks run
 * per task and change nothing.
 */
export class AttemptWindow {
  readonly #concurrency: number;
  /** Held attempts with the window full. */
  readonly #full: number;
  /** Held attempts with the window half empty: refilling starts here. */
  readonly #half: number;
  #refilling = false;

  constructor(concurrency: number, window: number) {
    this.#concurrency = concurrency;
    this.#full = concurrency + window;
    this.#half = concurrency + (window >> 1);
  }

  /** Whether an attempt sent to a thread holding `held` starts at once: a run slot is free. */
  hasFreeSlot(held: number): boolean {
    return held < this.#concurrency;
  }

  /** Whether a thread holding `held` takes another attempt, to run or to wait: a free slot, or a window being refilled that is not full. */
  hasRoom(held: number): boolean {
    return held < this.#concurrency || (this.#refilling && held < this.#full);
  }

  /** The thread now holds `held`: refilling starts once the window is half empty, and stops once it is full. */
  follow(held: number): void {
    if (held >= this.#full) this.#refilling = false;
    else if (held <= this.#half) this.#refilling = true;
  }
}
