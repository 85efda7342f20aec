// examples/scheduling-handlers.ts
import type { HandlerContext } from '../src/index.js';

/** A report: some quick CPU work. */
export function report(payload: { n: number }): number {
  let sum = 0;
  for (let i = 0; i < 20_000; i++) sum = (sum + i * payload.n) % 1_000_003;
  return sum;
}

/** Stands for a call to a throttled service. */
export async function fetchPage(payload: { page: number }, ctx: HandlerContext): Promise<string> {
  await new Promise((resolve) => setTimeout(resolve, 5));
  return `page ${payload.page} (attempt ${ctx.attempt})`;
}

/** A slow upload. */
export async function upload(payload: { file: string }): Promise<string> {
  await new Promise((resolve) => setTimeout(resolve, 20));
  return `uploaded ${payload.file}`;
}
