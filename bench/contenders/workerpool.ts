/** workerpool, in its `worker_threads` mode. */
import { fileURLToPath } from 'node:url';

import workerpool from 'workerpool';

import { type Pool, THREADS } from './pool.js';

const WORKER = fileURLToPath(new URL('../workers/workerpool-worker.mjs', import.meta.url));

export function createWorkerpool(): Pool {
  const pool = workerpool.pool(WORKER, { minWorkers: THREADS, maxWorkers: THREADS, workerType: 'thread' });
  return {
    retries: false,
    // workerpool returns its own thenable; adopting it costs one `then`, as awaiting it would.
    run: (handler, payload) => Promise.resolve(pool.exec(handler, [payload])),
    close: async () => {
      await pool.terminate();
    },
  };
}
