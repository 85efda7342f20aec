/**
 * A million no-op tasks through a processor with a task store (default
 * retention: 10,000 results of each kind), to show that the file and the
 * heap stay bounded: the file's size (database and write-ahead log) and the
 * main thread's heap after a forced GC, every 100,000 tasks.
 *
 *   node --expose-gc --import tsx bench/store-soak.ts [tasks]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createProcessor, sqliteStore } from '../src/index.js';
import { storeFileBytes } from '../src/store/sqlite.js';

const total = Number(process.argv[2] ?? 1_000_000);
const every = Math.max(1, Math.floor(total / 10));
const dir = mkdtempSync(join(tmpdir(), 'troupe-soak-'));
const path = join(dir, 'tasks.db');
const processor = createProcessor({
  handlers: new URL('./workers/handlers.mjs', import.meta.url),
  workers: 2,
  store: sqliteStore({ path }),
});
await processor.ready;

const size = (): number => storeFileBytes(path);
const MB = 1024 * 1024;
const gc = (globalThis as { gc?: () => void }).gc;
function report(done: number, started: number): void {
  gc?.();
  const heap = process.memoryUsage().heapUsed / MB;
  const seconds = (performance.now() - started) / 1_000;
  console.log(
    `${done.toLocaleString('en').padStart(9)} tasks  file ${(size() / MB).toFixed(1).padStart(6)} MB  heap ${heap.toFixed(1).padStart(5)} MB  ${Math.round(done / seconds).toLocaleString('en')} tasks/s`,
  );
}

const started = performance.now();
report(0, started);
let next = 0;
let done = 0;
await new Promise<void>((resolve) => {
  const one = (): void => {
    processor.submit({
      handler: 'noop',
      payload: next++,
      callback: () => {
        done++;
        if (done % every === 0) report(done, started);
        if (next < total) one();
        else if (done === total) resolve();
      },
    });
  };
  for (let i = 0; i < 1_024 && i < total; i++) one();
});
await processor.shutdown();
console.log(`after shutdown (log checkpointed into the file): ${(size() / MB).toFixed(1)} MB`);
rmSync(dir, { recursive: true, force: true });
