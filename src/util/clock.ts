/**
 * Where time comes from: the same shape as XState's clock, so XState's
 * `SimulatedClock` (or any fake) drives machine delays and Troupe's own timers
 * alike.
 */
export interface Clock {
  setTimeout(fn: (...args: unknown[]) => void, timeout: number): unknown;
  clearTimeout(id: unknown): void;
  /**
   * The clock's current time in ms. Optional: without it, `Date.now()` is
   * used (which fake timers such as vitest's replace too). XState's
   * `SimulatedClock` has it.
   */
  now?(): number;
}

/** A clock's time: its own `now()`, or `Date.now()`. */
export function clockNow(clock: Clock): number {
  return clock.now ? clock.now() : Date.now();
}

/**
 * The real clock. It looks the globals up on every call, so fake timers
 * installed after the processor was created still take effect.
 */
export const defaultClock: Clock = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout>),
  now: () => Date.now(),
};
