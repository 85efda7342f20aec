// examples/reliability.ts
import { createProcessor } from '../src/index.js';

const processor = createProcessor({
  handlers: new URL('./reliability-handlers.ts', import.meta.url),
  workers: 2,
  timeout: 200, // per attempt: then the handler's ctx.signal aborts...
  abortGrace: 100, // ...and its thread is replaced if it has not stopped 100 ms later
  maxRetries: 1,
  maxCrashes: 2, // a task that crashes its thread twice is poison
  restart: { minDelay: 10 },
});
await processor.ready;

// A handler that ignores its signal: the thread is replaced, the task fails.
const stuck = await processor.result(processor.submit({ id: 'stuck', handler: 'spin', payload: null }));
console.log(`stuck: ${stuck.status}, ${stuck.status === 'failed' ? stuck.error.name : ''} after ${stuck.attempts} attempts`);

// A payload that kills its thread: retried, then refused as poison. The pool recovers.
// No timeout: under load a dying thread can take longer than 200 ms to report its exit,
// and an attempt that timed out first is retried for the timeout, not charged as a crash.
const poison = await processor.result(processor.submit({ id: 'poison', handler: 'crash', payload: null, maxRetries: 5, timeout: 0 }));
console.log(`poison: ${poison.status}, ${poison.status === 'failed' ? poison.error.name : ''} after ${poison.attempts} attempts`);

// Cancelling through an AbortSignal: the running handler sees its ctx.signal abort.
const controller = new AbortController();
const started = new Promise<void>((resolve) => {
  const subscription = processor.events.subscribe((event) => {
    if (event.type === 'task.started' && event.id === 'report') {
      subscription.unsubscribe();
      resolve();
    }
  });
});
processor.submit({ id: 'report', handler: 'wait', payload: null, signal: controller.signal, timeout: 0 });
await started;
controller.abort(new Error('no longer needed'));
const report = await processor.result('report');
console.log(`report: ${report.status}, ${report.status === 'cancelled' ? report.reason : ''}`);

// Shutting down with work left: nothing is dropped, it is handed back.
for (const id of ['a', 'b', 'c']) processor.submit({ id, handler: 'wait', payload: { id }, timeout: 0 });
const { unfinished } = await processor.shutdown({ timeout: 50 });
console.log(`handed back: ${unfinished.map((task) => task.id).join(', ')}`);
console.log(`status: ${JSON.stringify(processor.getStatus())}`);
