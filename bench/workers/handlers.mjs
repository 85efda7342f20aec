/**
 * The work every contender runs, in one plain JavaScript module so that all of
 * them execute the very same functions: Troupe loads it as its handler module
 * (named exports are handlers), piscina and tinypool call its exports by
 * `name`, and the workerpool and raw workers import it.
 *
 * Plain `.mjs` rather than TypeScript: no contender should pay a compile step
 * for the handler code itself.
 */

/** Echoes a small payload: measures the pool's overhead and nothing else. */
export function noop(payload) {
  return payload;
}

/**
 * ≈1 ms of deterministic integer work (a xorshift loop). `n` is calibrated
 * once by the orchestrator, so every contender does identical work.
 */
export function cpu(payload) {
  return spin(payload.n, payload.seed);
}

export function spin(n, seed) {
  let x = seed | 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
  }
  return x >>> 0;
}

/**
 * Fails the first attempt of 30% of the ids (`i % 10 < 3`), then succeeds.
 * Troupe passes the attempt as `ctx.attempt` and retries on its own; the peers
 * have no retry, so their driver passes `payload.attempt` and resubmits once.
 */
export function flaky(payload, ctx) {
  const attempt = ctx !== null && typeof ctx === 'object' && typeof ctx.attempt === 'number' ? ctx.attempt : payload.attempt;
  if (attempt === 1 && payload.i % 10 < 3) throw new Error(`flaky: task ${payload.i} fails its first attempt`);
  return payload.i;
}

/**
 * Holds its thread until the task is cancelled (its `ctx.signal` aborts), then
 * rejects with the abort reason: a blocker that keeps every later task
 * waiting, for as long as the scenario wants. Troupe only (it needs `ctx.signal`).
 */
export function hold(_payload, ctx) {
  if (ctx.signal.aborted) return Promise.reject(ctx.signal.reason);
  return new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true }));
}

/**
 * Waits `payload.ms` without using its thread: an I/O-bound task, so what
 * bounds a Troupe node is its `concurrency`, not the CPU. For the
 * `--distributed` scale-out scenario (Troupe only).
 */
export function sleep(payload) {
  return new Promise((resolve) => setTimeout(resolve, payload.ms, payload.ms));
}
