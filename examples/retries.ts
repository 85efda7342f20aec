// examples/retries.ts
import { createProcessor } from '../src/index.js';

const processor = createProcessor({
  handlers: new URL('./retries-handlers.ts', import.meta.url),
  workers: 2,
  maxRetries: 3,
  // Waits of 50, 100, 200 ms before retries 1, 2, 3. A waiting task holds no thread.
  backoff: { delay: 50, factor: 2 },
});
await processor.ready;

processor.events.subscribe((event) => {
  if (event.type === 'task.retrying') {
    console.log(`${event.id}: attempt ${event.attempt} failed (${event.error.message}); retry in ${event.delay} ms`);
  }
});

// Fails twice, succeeds on the third attempt.
const fetched = await processor.result(processor.submit({ id: 'fetch-1', handler: 'flaky', payload: { failures: 2 } }));
console.log(`fetch-1: ${fetched.status} after ${fetched.attempts} attempts`);

// Never succeeds: one retry, then the task fails. The callback sees the final result.
processor.submit({
  id: 'parse-1',
  handler: 'parse',
  payload: 'not json',
  maxRetries: 1,
  callback: (result) => console.log(`parse-1 callback: ${result.status}`),
});
await processor.result('parse-1');
for (const [id, failure] of processor.getFailedTasks()) {
  console.log(`failed: ${id} after ${failure.attempts} attempts: ${failure.error.name}: ${failure.error.message}`);
}

// Shutdown lets accepted tasks finish until its timeout; what is left is cancelled and handed back.
processor.submit({ id: 'export-1', handler: 'slow', payload: { ms: 60_000 } });
const { unfinished } = await processor.shutdown({ timeout: 100 });
console.log(`unfinished: ${unfinished.map((task) => task.id).join(', ')}`);
console.log(`export-1: ${processor.getResult('export-1')?.status}`);
