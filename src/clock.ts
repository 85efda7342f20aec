/**
 * Where time comes from: the same shape as XState's clock, so XState's
 * `SimulatedClock` (or any fake) drives machine delays and Troupe's own timers
 * alike.
 */
export interface Clock {
  setTimeout(fn: (...args: unknown[]) => void, timeout: number): unknown;
  clearTimeout(id: unknown): void;
}

/**
 * The real clock. It looks the globals up on every call, so fake timers
 * installed after the processor was created still take effect.
 */
export const defaultClock: Clock = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout>),
};
