// examples/scheduling.ts
import { createProcessor } from '../src/index.js';

const processor = createProcessor({
  handlers: new URL('./scheduling-handlers.ts', import.meta.url),
  workers: 2,
  // A producer that awaits submitAsync never has more than 300 tasks waiting.
  maxQueue: 300,
  // fetchPage calls a service that allows 5 calls per 100 ms.
  rateLimit: { perHandler: { fetchPage: { max: 5, interval: 100 } } },
  // Uploads never take both threads.
  handlerConcurrency: { upload: 1 },
});
await processor.ready;

// Priorities: the urgent report overtakes the bulk still waiting, in the
// processor and in the threads' windows alike.
const finished: string[] = [];
processor.events.subscribe((event) => {
  if (event.type === 'task.done' && event.id.startsWith('report')) finished.push(event.id);
});
for (let n = 0; n < 200; n++) processor.submit({ id: `report-bulk-${n}`, handler: 'report', payload: { n }, priority: -1 });
processor.submit({ id: 'report-urgent', handler: 'report', payload: { n: 99 }, priority: 10 });
await processor.onIdle();
const overtaken = finished.length - 1 - finished.indexOf('report-urgent');
console.log(`urgent report finished ${overtaken >= 100 ? 'ahead of over 100' : 'behind most'} bulk ones`);

// A delayed task waits `scheduled`, holding no thread.
const reminder = processor.submit({ id: 'reminder', handler: 'report', payload: { n: 1 }, delay: 50 });
console.log(`reminder: ${processor.getTask(reminder)?.state}`);
const reminded = await processor.result(reminder);
console.log(`reminder: ${reminded.status}, ${reminded.startedAt! - reminded.submittedAt >= 50 ? 'not before' : 'before'} its time`);

// Backpressure: 1,000 tasks from a producer that waits for room.
let mostWaiting = 0;
for (let n = 0; n < 1_000; n++) {
  await processor.submitAsync({ handler: 'report', payload: { n } });
  mostWaiting = Math.max(mostWaiting, processor.getStatus().queued);
}
await processor.onIdle();
console.log(`backpressure: ${mostWaiting <= 300 ? 'never more than' : 'MORE than'} 300 waiting (maxQueue 300)`);

// A rate-limited handler: 15 pages at 5 per 100 ms take at least 200 ms; others are not held back.
const started = Date.now();
const pages = Array.from({ length: 15 }, (_, page) => processor.submit({ handler: 'fetchPage', payload: { page } }));
console.log(`page 14 is ${processor.getTask(pages[14]!)?.state}, held by ${processor.getTask(pages[14]!)?.blockedBy}`);
await Promise.all(pages.map((id) => processor.result(id)));
console.log(`15 pages in ${Date.now() - started >= 200 ? 'at least' : 'under'} 200 ms`);

// Handler concurrency: uploads run one at a time, reports pass them.
let uploading = 0;
let mostUploading = 0;
processor.events.subscribe((event) => {
  if (!('id' in event) || !event.id.startsWith('upload')) return;
  if (event.type === 'task.started') mostUploading = Math.max(mostUploading, ++uploading);
  if (event.type === 'task.done') uploading--;
});
for (let n = 0; n < 4; n++) processor.submit({ id: `upload-${n}`, handler: 'upload', payload: { file: `f${n}` } });
await processor.onIdle();
console.log(`uploads: at most ${mostUploading} at once`);

await processor.shutdown();
