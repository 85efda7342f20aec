/**
 * 10,000 live actors and a million events through them, to show that the
 * main thread's heap stays flat: the heap after a forced GC once the actors
 * are spawned, then every 100,000 events (sent in rounds of one event per
 * actor, each round awaited with an ask to the last actor).
 *
 *   node --expose-gc --import tsx bench/actor-soak.ts [actors] [events]
 */
import { createProcessor } from '../src/index.js';

const actors = Number(process.argv[2] ?? 10_000);
const events = Number(process.argv[3] ?? 1_000_000);
const processor = createProcessor({ handlers: new URL('./workers/actors.mjs', import.meta.url), workers: 2 });
await processor.ready;

const MB = 1024 * 1024;
const gc = (globalThis as { gc?: () => void }).gc;
const started = performance.now();
function report(label: string): void {
  gc?.();
  const heap = process.memoryUsage().heapUsed / MB;
  console.log(`${label.padEnd(22)} heap ${heap.toFixed(1).padStart(6)} MB  ${((performance.now() - started) / 1_000).toFixed(1)} s`);
}

report('started');
const refs = [];
for (let i = 0; i < actors; i += 500) {
  refs.push(
    ...(await Promise.all(Array.from({ length: Math.min(500, actors - i) }, (_, k) => processor.spawn('counter', { id: `a${i + k}` })))),
  );
}
report(`${actors.toLocaleString('en')} actors`);
const event = { type: 'inc' };
let sent = 0;
const every = Math.max(actors, Math.floor(events / 10));
while (sent < events) {
  for (const ref of refs) ref.send(event);
  sent += refs.length;
  await Promise.all([refs[0]?.ask(event), refs.at(-1)?.ask(event)]);
  if (sent % every < refs.length) report(`${sent.toLocaleString('en')} events`);
}
const total = refs.reduce((sum, ref) => sum + ((ref.getSnapshot().context as { count: number }).count ?? 0), 0);
console.log(`counted ${total.toLocaleString('en')} (events and asks)`);
await processor.shutdown();
report('after shutdown');
