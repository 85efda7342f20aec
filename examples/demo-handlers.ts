// examples/demo-handlers.ts
/**
 * The handler module of examples/demo.ts: a little real CPU work per task, and
 * a transient failure on some attempts so that retries and failures show.
 */
import { createHash } from 'node:crypto';

import type { HandlerContext } from '../src/index.js';

export interface HashJob {
  /** What to hash. */
  readonly text: string;
  /** SHA-256 rounds, each over the previous digest. */
  readonly rounds: number;
  /** Chance, from 0 to 1, that an attempt throws after doing its work. */
  readonly failureRate: number;
}

export default async function hash({ text, rounds, failureRate }: HashJob, ctx: HandlerContext): Promise<string> {
  let digest = text;
  for (let round = 0; round < rounds; round++) digest = createHash('sha256').update(digest).digest('hex');
  if (Math.random() < failureRate) throw new Error(`Transient failure of ${ctx.id} on attempt ${ctx.attempt}`);
  return digest;
}
