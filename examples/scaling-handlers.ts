// examples/scaling-handlers.ts
/** The handler module of examples/scaling.ts: work that takes `ms`. */
import { setTimeout as sleep } from 'node:timers/promises';

export default async function work(payload: { ms: number }): Promise<number> {
  await sleep(payload.ms);
  return payload.ms;
}
