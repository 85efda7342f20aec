// examples/retries-handlers.ts
/**
 * The handler module of examples/retries.ts. Failures depend on `ctx.attempt`,
 * not on thread memory, so the example prints the same lines on every run.
 */
import { setTimeout as sleep } from 'node:timers/promises';

import type { HandlerContext } from '../src/index.js';

/** Fails its first `failures` attempts, then succeeds. */
export async function flaky(payload: { failures: number }, ctx: HandlerContext): Promise<string> {
  if (ctx.attempt <= payload.failures) throw new Error(`service unavailable (attempt ${ctx.attempt})`);
  return 'fetched';
}

/** Rejects input that is not a JSON object, every time. */
export async function parse(payload: string): Promise<unknown> {
  if (!payload.trimStart().startsWith('{')) throw new SyntaxError(`expected a JSON object, got ${JSON.stringify(payload)}`);
  return JSON.parse(payload);
}

/** Takes `ms`, but stops as soon as its signal aborts (a timeout, a cancel, a shutdown). */
export async function slow(payload: { ms: number }, ctx: HandlerContext): Promise<string> {
  await sleep(payload.ms, undefined, { signal: ctx.signal });
  return 'exported';
}
