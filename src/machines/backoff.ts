/** How the wait between attempts grows: what a task machine is given (see `BackoffOptions` for each field). */
export interface Backoff {
  readonly delay: number;
  readonly factor: number;
  readonly maxDelay: number;
  readonly jitter: number;
}

/**
 * The wait before retry number `attempt` (1 for the first retry):
 * `delay * factor^(attempt-1)`, capped at `maxDelay`, then spread by ±`jitter`
 * and capped again so jitter never exceeds the cap.
 *
 * @param random - a source of numbers in [0, 1); injectable for tests.
 */
export function backoffDelay(attempt: number, { delay, factor, maxDelay, jitter }: Backoff, random: () => number = Math.random): number {
  const base = Math.min(maxDelay, delay * factor ** Math.max(0, attempt - 1));
  if (jitter === 0) return base;
  const spread = base * jitter * (2 * random() - 1);
  return Math.max(0, Math.min(maxDelay, Math.round(base + spread)));
}
