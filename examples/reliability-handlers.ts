// examples/reliability-handlers.ts
/** Handlers that misbehave, for examples/reliability.ts. */
import type { HandlerContext } from '../src/index.js';

/** Never looks at its signal: only replacing its thread stops it. */
export function spin(): never {
  for (;;) {
    // busy
  }
}

/** Kills its thread, as a native addon or an out-of-memory error would. */
export function crash(): never {
  process.exit(1);
}

/** Waits until it is told to stop, and stops at once. */
export function wait(_payload: unknown, ctx: HandlerContext): Promise<never> {
  return new Promise((_resolve, reject) => {
    ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
  });
}
