// examples/scaling.ts
import { createProcessor } from '../src/index.js';

// An elastic pool: 1 thread at first, up to 4 while tasks wait, back to 1 after 200 ms idle.
const processor = createProcessor({
  handlers: new URL('./scaling-handlers.ts', import.meta.url),
  workers: { min: 1, max: 4, idleTimeout: 200 },
});
const sizes: string[] = [];
processor.events.subscribe((event) => {
  if (event.type === 'pool.resized') sizes.push(`${event.workers} (${event.reason})`);
});
await processor.ready;

// A burst: tasks wait for room, so the pool grows, a thread at a time.
const ids = Array.from({ length: 300 }, () => processor.submit({ payload: { ms: 20 } }));
const results = await Promise.all(ids.map((id) => processor.result(id)));
console.log(`done: ${results.filter((result) => result.status === 'done').length} of ${ids.length}`);

// Idle: each thread above `min` retires once idle for 200 ms.
const keepAlive = setInterval(() => {}, 1_000); // an idle pool does not keep the process alive
await new Promise<void>((resolve) => {
  const watching = processor.events.subscribe((event) => {
    if (event.type === 'pool.resized' && event.workers === 1) resolve(watching.unsubscribe());
  });
});
clearInterval(keepAlive);
console.log(`idle: ${processor.getStatus().workers} thread`);

// scale(n) sets the size now, and resolves once that many threads are ready.
await processor.scale(3);
console.log(`scaled: ${processor.getStatus().workers} threads`);
console.log(`sizes: ${sizes.join(', ')}`);
await processor.shutdown();
