// examples/events.ts
import { count, lastValueFrom, map, scan, takeWhile, toArray } from 'rxjs';

import { createProcessor, ofType } from '../src/index.js';

const processor = createProcessor({
  handlers: new URL('./retries-handlers.ts', import.meta.url),
  workers: 2,
  backoff: { delay: 10 },
});

// Every failure, typed: `event.result.error` needs no narrowing.
processor.events.pipe(ofType('task.failed')).subscribe((event) => {
  console.log(`failed: ${event.id} (${event.result.error.name})`);
});

// A running tally of retries per task, kept by the stream itself.
let tally = new Map<string, number>();
processor.events
  .pipe(
    ofType('task.retrying'),
    scan((retries, event) => new Map(retries).set(event.id, event.attempt), new Map<string, number>()),
  )
  .subscribe((retries) => (tally = retries));

// One task's life, state by state, until it ends.
const flaky = processor.submit({ id: 'flaky', handler: 'flaky', payload: { failures: 2 } });
const states = await lastValueFrom(
  processor.task$(flaky).pipe(
    map((task) => task.state),
    toArray(),
  ),
);
console.log(`flaky: ${states.filter((state, i) => state !== states[i - 1]).join(' → ')}`);
console.log(`retries: ${[...tally].map(([id, attempts]) => `${id} ×${attempts}`).join(', ')}`);

// The status at most once per tick: 20 tasks submitted at once are a few updates, not 20.
const updates = lastValueFrom(
  processor.status$.pipe(
    takeWhile((status) => status.done + status.failed < 21, true),
    count(),
  ),
);
for (let n = 0; n < 20; n++) {
  processor.submit({ id: `parse-${n}`, handler: 'parse', payload: n === 7 ? 'not json' : `{"n":${n}}`, maxRetries: 0 });
}
console.log(`status updates for 20 tasks: ${(await updates) < 20 ? 'fewer than 20' : '20 or more'}`);

await processor.shutdown();
