// examples/durability.ts
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createProcessor, sqliteStore } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'troupe-'));
const store = sqliteStore({ path: join(dir, 'tasks.db') });
const handlers = new URL('./quickstart-handlers.ts', import.meta.url);

// A first run: one task finishes, one is still waiting for its time when the process stops.
const first = createProcessor({ handlers, workers: 1, store });
await first.ready;
await first.submitAsync({ id: 'square-7', payload: { n: 7 } }); // on disk once this resolves
await first.result('square-7');
await first.submitAsync({ id: 'square-9', payload: { n: 9 }, delay: 200 });
const submittedAt = first.getTask('square-9')?.submittedAt;
// Shutdown leaves what has not finished in the store, for the next start.
const { unfinished } = await first.shutdown({ timeout: 0 });
console.log(`first run: handed back ${unfinished.length}, kept in the store`);

// A later run (a deploy, a restart, a crash): the same file.
const second = createProcessor({ handlers, workers: 1, store });
await second.ready; // open, and the first run's unfinished task queued again
console.log(`square-7 from the first run: ${second.getResult('square-7')?.status}`);
const nine = await second.result('square-9');
const onTime = nine.submittedAt === submittedAt && nine.startedAt! >= nine.submittedAt + 200;
console.log(
  `square-9: ${nine.status === 'done' ? String(nine.value) : nine.status}, ${onTime ? 'submitted in the first run, started no earlier than its delay' : 'not as submitted'}`,
);
await second.shutdown();
rmSync(dir, { recursive: true, force: true });
