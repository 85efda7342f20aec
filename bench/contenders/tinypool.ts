/** tinypool, the piscina fork vitest runs on. */
import Tinypool from 'tinypool';

import { HANDLERS, type Pool, THREADS } from './pool.js';

export function createTinypool(): Pool {
  const pool = new Tinypool({ filename: HANDLERS.href, minThreads: THREADS, maxThreads: THREADS });
  return {
    retries: false,
    run: (handler, payload) => pool.run(payload, { name: handler }),
    close: () => pool.destroy(),
  };
}
