// examples/quickstart-handlers.ts
/**
 * The handler module of examples/quickstart.ts. Each exported function is a
 * handler, named by its export; the default export runs tasks that name none.
 */
import type { HandlerContext } from '../src/index.js';

export default async function square(payload: { n: number }): Promise<number> {
  return payload.n * payload.n;
}

export async function greet(payload: { name: string }, ctx: HandlerContext): Promise<string> {
  return `Hello, ${payload.name}! (task ${ctx.id}, attempt ${ctx.attempt})`;
}
