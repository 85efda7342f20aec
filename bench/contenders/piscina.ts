/** piscina, the pool Troupe is most often weighed against. */
import { Piscina } from 'piscina';

import { HANDLERS, type Pool, THREADS } from './pool.js';

export interface PiscinaSettings {
  /** piscina's best-tuned setting for tiny tasks keeps many tasks in each thread. */
  readonly concurrentTasksPerWorker?: number;
}

export function createPiscina(settings: PiscinaSettings): Pool {
  const pool = new Piscina({
    filename: HANDLERS.href,
    minThreads: THREADS,
    maxThreads: THREADS,
    ...(settings.concurrentTasksPerWorker ? { concurrentTasksPerWorker: settings.concurrentTasksPerWorker } : {}),
  });
  return {
    retries: false,
    run: (handler, payload) => pool.run(payload, { name: handler }),
    close: () => pool.destroy(),
  };
}
